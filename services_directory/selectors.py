"""Reads of the directory. The directory is shared by the whole task force: every signed-in
member may read it; who may change it is decided in services."""

from __future__ import annotations

import math
import uuid
import zoneinfo
from dataclasses import dataclass
from datetime import datetime

from django.db import connection
from django.db.models import F, FloatField, Max, OuterRef, Prefetch, Q, QuerySet, Subquery

from audit.errors import NotFound
from services_directory.models import (
    MINUTES_PER_DAY,
    MINUTES_PER_WEEK,
    Location,
    OpeningHours,
    Organization,
    Service,
    ServiceAtLocation,
    TaskForce,
    unit_vector,
)

EARTH_RADIUS_KM = 6371.0088


@dataclass(frozen=True)
class ServiceFilters:
    stage: str | None = None
    accepting: bool | None = None
    open_at: datetime | None = None  # aware; "open now" is the request time
    near: tuple[float, float] | None = None
    language: str | None = None
    q: str | None = None
    organization: uuid.UUID | None = None


def _service_prefetches() -> list:
    return [
        "languages",
        "phones",
        "schedules",
        Prefetch("locations", queryset=Location.objects.prefetch_related("schedules")),
    ]


def service_list(*, filters: ServiceFilters) -> QuerySet[Service]:
    """Services matching the filters; with ``near``, nearest first and annotated with
    ``proximity`` (cosine of the angle to the nearest matching location)."""
    services = Service.objects.select_related("organization")
    if filters.stage:
        services = services.filter(stage=filters.stage)
    if filters.accepting is not None:
        services = services.filter(accepting_referrals=filters.accepting)
    if filters.organization:
        services = services.filter(organization_id=filters.organization)
    if filters.q:
        services = services.filter(
            Q(name__icontains=filters.q) | Q(description__icontains=filters.q)
        )
    if filters.language:
        code = filters.language.lower()
        services = services.filter(
            pk__in=_services_speaking(code).values("pk"),
        )
    if filters.open_at is not None and filters.near is not None:
        return _open_services_near(services, at=filters.open_at, near=filters.near)
    if filters.open_at is not None:
        open_rows = OpeningHours.objects.filter(open_hours_q(filters.open_at))
        services = services.filter(pk__in=open_rows.values("service_id"))
    if filters.near is not None:
        qx, qy, qz = unit_vector(*filters.near)
        # One indexed look-up per candidate service: cheaper than grouping joined rows.
        nearest = (
            ServiceAtLocation.objects.filter(service_id=OuterRef("pk"))
            .annotate(dot=_dot("location__", qx, qy, qz))
            .order_by("-dot")
            .values("dot")[:1]
        )
        services = services.annotate(
            proximity=Subquery(nearest, output_field=FloatField())
        ).order_by(F("proximity").desc(nulls_last=True), "name", "pk")
    else:
        services = services.order_by("name", "pk")
    return services.prefetch_related(*_service_prefetches())


def _dot(path: str, qx: float, qy: float, qz: float):
    return F(f"{path}unit_x") * qx + F(f"{path}unit_y") * qy + F(f"{path}unit_z") * qz


def _open_services_near(
    services: QuerySet[Service], *, at: datetime, near: tuple[float, float]
) -> RankedServices:
    """Open services, nearest open location first: one grouped pass over the opening-hours
    rows open now (a covering index answers it), then the page's services by id."""
    qx, qy, qz = unit_vector(*near)
    open_rows = OpeningHours.objects.filter(open_hours_q(at), service_id__in=services.values("pk"))
    ranked = (
        open_rows.values("service_id")
        .annotate(proximity=Max(_dot("", qx, qy, qz)))
        .order_by(F("proximity").desc(nulls_last=True), "service_id")
    )
    return RankedServices(
        ranked,
        Service.objects.select_related("organization").prefetch_related(*_service_prefetches()),
        count=services.filter(pk__in=open_rows.values("service_id")),
    )


class RankedServices:
    """A ranked list of services that paginates like a queryset (``count()`` and slices):
    the ranking query pages ids and proximities, the page's services are then fetched with
    their prefetches and given their ``proximity``."""

    ordered = True

    def __init__(
        self, ranked: QuerySet, services: QuerySet[Service], *, count: QuerySet[Service]
    ) -> None:
        self.ranked = ranked
        self.services = services
        self.counted = count  # the same services, without ranking: a cheaper COUNT

    def count(self) -> int:
        return self.counted.count()

    def __len__(self) -> int:
        return self.count()

    def __iter__(self):
        return iter(self[:])

    def __getitem__(self, index):
        if not isinstance(index, slice):
            return self[index : index + 1][0]
        rows = list(self.ranked[index])
        by_id = self.services.in_bulk([row["service_id"] for row in rows])
        page = []
        for row in rows:
            service = by_id[row["service_id"]]
            service.proximity = row["proximity"]
            page.append(service)
        return page


def _services_speaking(code: str) -> QuerySet[Service]:
    spoken = Q(languages__code=code) | Q(languages__name__iexact=code)
    at_location = Q(service_at_locations__location__languages__code=code) | Q(
        service_at_locations__location__languages__name__iexact=code
    )
    return Service.objects.filter(spoken | at_location)


def open_hours_q(at: datetime, *, prefix: str = "") -> Q:
    """Opening-hours rows open at the instant ``at``, each judged in its own time zone.

    An interval may run past the end of the week (Sunday night into Monday), so the local
    minute of the week ``m`` is tested as ``m`` and as ``m + MINUTES_PER_WEEK``.
    """
    condition = Q(pk__in=[])
    for time_zone in _time_zones_in_use():
        local = at.astimezone(zoneinfo.ZoneInfo(time_zone))
        minute = local.weekday() * MINUTES_PER_DAY + local.hour * 60 + local.minute
        valid = (
            Q(**{f"{prefix}valid_from__isnull": True})
            | Q(**{f"{prefix}valid_from__lte": local.date()})
        ) & (
            Q(**{f"{prefix}valid_to__isnull": True}) | Q(**{f"{prefix}valid_to__gte": local.date()})
        )
        # Sunday's hours past midnight reach into Monday as minutes past the week's end.
        positions = [minute] if minute >= MINUTES_PER_DAY else [minute, minute + MINUTES_PER_WEEK]
        for m in positions:
            # No interval is longer than a day, so "opened within the last day" bounds the
            # index range scan to a seventh of the week. One flat OR branch per zone and
            # position keeps each branch an index range scan.
            condition |= (
                Q(
                    **{
                        f"{prefix}time_zone": time_zone,
                        f"{prefix}opens_minute__gt": m - MINUTES_PER_DAY,
                        f"{prefix}opens_minute__lte": m,
                        f"{prefix}closes_minute__gt": m,
                    }
                )
                & valid
            )
    return condition


def _time_zones_in_use() -> list[str]:
    """The distinct time zones of the opening hours, by a loose index scan: one index seek
    per time zone instead of reading every row (a plain DISTINCT scans them all)."""
    table = connection.ops.quote_name(OpeningHours._meta.db_table)
    sql = f"""
        WITH RECURSIVE zones(zone) AS (
            SELECT MIN(time_zone) FROM {table}
            UNION ALL
            SELECT (SELECT MIN(time_zone) FROM {table} WHERE time_zone > zones.zone)
            FROM zones WHERE zones.zone IS NOT NULL
        )
        SELECT zone FROM zones WHERE zone IS NOT NULL
    """  # noqa: S608 - the table name is ours, quoted; no user input
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return [row[0] for row in cursor.fetchall()]


def distance_km(proximity: float | None) -> float | None:
    if proximity is None:
        return None
    return EARTH_RADIUS_KM * math.acos(max(-1.0, min(1.0, proximity)))


def service_get(*, service_id: uuid.UUID) -> Service:
    try:
        return (
            Service.objects.select_related("organization")
            .prefetch_related(*_service_prefetches())
            .get(pk=service_id)
        )
    except Service.DoesNotExist:
        raise NotFound() from None


def service_is_open(*, service: Service, at: datetime) -> bool:
    return OpeningHours.objects.filter(Q(service=service) & open_hours_q(at)).exists()


def organization_list(*, kind: str | None = None, q: str | None = None) -> QuerySet[Organization]:
    organizations = Organization.objects.all()
    if kind:
        organizations = organizations.filter(kind=kind)
    if q:
        organizations = organizations.filter(
            Q(name__icontains=q) | Q(alternate_name__icontains=q) | Q(description__icontains=q)
        )
    return organizations.prefetch_related("phones", "task_forces").order_by("name", "pk")


def organization_get(*, organization_id: uuid.UUID) -> Organization:
    try:
        return Organization.objects.prefetch_related("phones", "task_forces").get(
            pk=organization_id
        )
    except Organization.DoesNotExist:
        raise NotFound() from None


def location_list(*, organization: uuid.UUID | None = None) -> QuerySet[Location]:
    locations = Location.objects.prefetch_related("schedules", "languages", "phones")
    if organization:
        locations = locations.filter(organization_id=organization)
    return locations.order_by("name", "pk")


def location_get(*, location_id: uuid.UUID) -> Location:
    try:
        return Location.objects.prefetch_related("schedules", "languages", "phones").get(
            pk=location_id
        )
    except Location.DoesNotExist:
        raise NotFound() from None


def task_forces_of(*, organization_id: uuid.UUID) -> QuerySet[TaskForce]:
    return TaskForce.objects.filter(organizations__pk=organization_id).order_by("name")
