"""Reads of the directory. The directory is shared by the whole task force: every signed-in
member may read it; who may change it is decided in services."""

from __future__ import annotations

import math
import uuid
import zoneinfo
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import connection
from django.db.models import (
    Count,
    F,
    FloatField,
    Max,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Window,
)
from django.utils import timezone

from core.errors import NotFound
from core.sql import Select
from services_directory.models import (
    MINUTES_PER_DAY,
    MINUTES_PER_WEEK,
    DeviceToken,
    Language,
    Location,
    OpeningHours,
    Organization,
    Phone,
    Schedule,
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


def service_list(*, filters: ServiceFilters) -> ServiceSearch:
    """Services matching the filters, as cards (see ``service_cards``); with ``near``,
    nearest first and with ``distance_km`` to the nearest matching location."""
    services = Service.objects.all()
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
    if filters.open_at is not None:
        open_rows = OpeningHours.objects.filter(open_hours_q(filters.open_at, stage=filters.stage))
        if filters.near is not None:
            # The stage is in the opening hours already; other filters need the services.
            narrowed = filters.accepting is not None or any(
                (filters.organization, filters.q, filters.language)
            )
            if narrowed:
                open_rows = open_rows.filter(service_id__in=services.values("pk"))
            return _open_services_near(services, open_rows=open_rows, near=filters.near)
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
        ranked = (
            services.annotate(proximity=Subquery(nearest, output_field=FloatField()))
            .order_by(F("proximity").desc(nulls_last=True), "name", "pk")
            .values("proximity", service_id=F("pk"))
        )
        return ServiceSearch(ranked, count=services, windowed=True)
    return ServiceSearch(
        services.order_by("name", "pk").values(service_id=F("pk")),
        count=services,
        windowed=filters.open_at is not None,
    )


def _dot(path: str, qx: float, qy: float, qz: float):
    return F(f"{path}unit_x") * qx + F(f"{path}unit_y") * qy + F(f"{path}unit_z") * qz


def _open_services_near(
    services: QuerySet[Service], *, open_rows: QuerySet[OpeningHours], near: tuple[float, float]
) -> ServiceSearch:
    """Open services, nearest open location first: one grouped pass over the opening-hours
    rows open now (a covering index answers it). ``open_rows`` are already limited to the
    ``services``."""
    qx, qy, qz = unit_vector(*near)
    ranked = (
        open_rows.values("service_id")
        .annotate(proximity=Max(_dot("", qx, qy, qz)))
        .order_by(F("proximity").desc(nulls_last=True), "service_id")
    )
    return ServiceSearch(
        ranked, count=services.filter(pk__in=open_rows.values("service_id")), windowed=True
    )


class ServiceSearch:
    """A ranked list of service cards: the ranking query pages service ids (and
    proximities), then ``service_cards`` reads the page's services.

    ``page()`` answers a page and the total together. Where the ranking has to read every
    match anyway (open now, nearest first), the total comes from the same query as a window
    count; a plain filtered list keeps a separate COUNT, which an index answers while the
    page stops after its rows."""

    def __init__(self, ranked: QuerySet, *, count: QuerySet[Service], windowed: bool) -> None:
        self.ranked = ranked  # rows {"service_id": ..., "proximity": ... (with near)}
        self.counted = count  # the same services, without ranking
        self.windowed = windowed

    def page(self, *, offset: int, limit: int) -> tuple[list[dict[str, Any]], int]:
        if self.windowed:
            rows = list(self.ranked.annotate(total=Window(Count("*")))[offset : offset + limit])
            # past the end there is no row to carry the total: count it on its own
            total = rows[0]["total"] if rows else (self.counted.count() if offset else 0)
        else:
            total = self.counted.count()
            rows = list(self.ranked[offset : offset + limit]) if offset < total else []
        return self._cards(rows), total

    def __iter__(self):
        return iter(self._cards(list(self.ranked)))

    @staticmethod
    def _cards(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return service_cards(
            service_ids=[row["service_id"] for row in rows],
            proximity={row["service_id"]: row.get("proximity") for row in rows},
        )


SERVICE_CARD_FIELDS = (
    "id",
    "name",
    "alternate_name",
    "description",
    "organization",
    "stage",
    "status",
    "accepting_referrals",
    "capacity_available",
    "referral_sla_hours",
    "eligibility_description",
    "minimum_age",
    "maximum_age",
    "wait_time",
    "stated_wait_days",
    "waiting_count",
    "current_wait_days",
    "fees_description",
    "application_process",
    "interpretation_services",
    "alert",
    "url",
    "email",
)
# the related lists and the distance that follow the fields of a service card
CARD_LISTS = ("languages", "phones", "schedules", "locations", "distance_km")
LOCATION_CARD_FIELDS = (
    "id",
    "organization",
    "location_type",
    "name",
    "alternate_name",
    "description",
    "transportation",
    "url",
    "latitude",
    "longitude",
    "time_zone",
    "address_1",
    "address_2",
    "city",
    "region",
    "state_province",
    "postal_code",
    "country",
)
SCHEDULE_CARD_FIELDS = ("byday", "opens_at", "closes_at", "valid_from", "valid_to", "description")
LANGUAGE_CARD_FIELDS = ("code", "name", "note")
PHONE_CARD_FIELDS = ("number", "extension", "type", "description")


def service_cards(
    *, service_ids: Sequence[uuid.UUID], proximity: dict[uuid.UUID, float | None] | None = None
) -> list[dict[str, Any]]:
    """The services with their organisation, languages, phones, schedules and locations (with
    the locations' schedules), in the order of ``service_ids``, as plain dicts in the shape of
    ``ServiceOutput`` (the API's documented schema, which a test holds them to).

    Six flat ``values_list`` queries and no model instances: a page of 50 services is a few
    thousand fields, and building them as models and then serialising each field through DRF
    was most of a directory search's time (and of the garbage that paused it)."""
    service_ids = list(service_ids)
    if not service_ids:
        return []
    columns = [f for f in SERVICE_CARD_FIELDS if f != "organization"]
    services = {
        row[0]: row
        for row in Service.objects.filter(pk__in=service_ids).values_list(
            *columns, "organization_id", "organization__name", "organization__kind"
        )
    }
    languages = _grouped(
        Language.objects.filter(service_id__in=service_ids).order_by("code", "name", "id"),
        "service_id",
        LANGUAGE_CARD_FIELDS,
    )
    phones = _grouped(
        Phone.objects.filter(service_id__in=service_ids).order_by("number", "id"),
        "service_id",
        PHONE_CARD_FIELDS,
    )
    schedules = _grouped(
        Schedule.objects.filter(service_id__in=service_ids).order_by("id"),
        "service_id",
        SCHEDULE_CARD_FIELDS,
    )
    places = ServiceAtLocation.objects.filter(service_id__in=service_ids).order_by(
        "location__name", "location__id"
    )
    location_columns = [f"location__{f}" for f in LOCATION_CARD_FIELDS]
    location_columns[1] = "location__organization_id"
    located: dict[uuid.UUID, list[dict[str, Any]]] = {}
    location_schedules: dict[uuid.UUID, list[dict[str, Any]]] = {}
    for service_id, *values in places.values_list("service_id", *location_columns):
        location = dict(zip(LOCATION_CARD_FIELDS, values, strict=True))
        location["schedules"] = location_schedules.setdefault(location["id"], [])
        located.setdefault(service_id, []).append(location)
    if location_schedules:
        by_location = _grouped(
            Schedule.objects.filter(location_id__in=list(location_schedules)).order_by("id"),
            "location_id",
            SCHEDULE_CARD_FIELDS,
        )
        for location_id, rows in by_location.items():
            location_schedules[location_id].extend(rows)
    proximity = proximity or {}
    cards = []
    for service_id in service_ids:
        row = services.get(service_id)
        if row is None:  # deleted since it was ranked
            continue
        card = dict(zip(columns, row, strict=False))
        organization_id, organization_name, organization_kind = row[len(columns) :]
        card["organization"] = {
            "id": organization_id,
            "name": organization_name,
            "kind": organization_kind,
        }
        card["languages"] = languages.get(service_id, [])
        card["phones"] = phones.get(service_id, [])
        card["schedules"] = schedules.get(service_id, [])
        card["locations"] = located.get(service_id, [])
        distance = distance_km(proximity.get(service_id))
        card["distance_km"] = None if distance is None else round(distance, 3)
        cards.append({name: card[name] for name in (*SERVICE_CARD_FIELDS, *CARD_LISTS)})
    return cards


def _grouped(
    rows: QuerySet, key: str, fields: tuple[str, ...]
) -> dict[uuid.UUID, list[dict[str, Any]]]:
    grouped: dict[uuid.UUID, list[dict[str, Any]]] = {}
    for owner, *values in rows.values_list(key, *fields):
        grouped.setdefault(owner, []).append(dict(zip(fields, values, strict=True)))
    return grouped


def _services_speaking(code: str) -> QuerySet[Service]:
    spoken = Q(languages__code=code) | Q(languages__name__iexact=code)
    at_location = Q(service_at_locations__location__languages__code=code) | Q(
        service_at_locations__location__languages__name__iexact=code
    )
    return Service.objects.filter(spoken | at_location)


def open_hours_q(at: datetime, *, prefix: str = "", stage: str | None = None) -> Q:
    """Opening-hours rows open at the instant ``at``, each judged in its own time zone; with
    ``stage``, only those of services at that stage.

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
            at_stage = {f"{prefix}stage": stage} if stage else {}
            condition |= (
                Q(
                    **at_stage,
                    **{
                        f"{prefix}time_zone": time_zone,
                        f"{prefix}opens_minute__gt": m - MINUTES_PER_DAY,
                        f"{prefix}opens_minute__lte": m,
                        f"{prefix}closes_minute__gt": m,
                    },
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


# Every referral made to a service reads it so: one statement written once (``core.sql``).
_SERVICE_WITH_ORGANIZATION = Select(
    Service,
    related=["organization"],
    where=lambda column, qn: f"{column('id')} = %s",
    params=[Service._meta.pk],
)


def service_with_organization(*, service_id: uuid.UUID) -> Service | None:
    """The service with its organisation, or None when there is none."""
    return _SERVICE_WITH_ORGANIZATION.one(service_id)


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


def services_to_refer_to(*, organization_id: uuid.UUID) -> QuerySet[Service]:
    """Services accepting referrals in the task forces this organisation belongs to, by
    stage and name: where its members may send someone. Unclassified services (no stage)
    are not offered."""
    partners = Organization.objects.filter(task_forces__organizations__pk=organization_id).values(
        "pk"
    )
    return (
        Service.objects.filter(organization_id__in=partners, accepting_referrals=True)
        .exclude(stage="")
        .select_related("organization")
        .order_by("stage", "name", "pk")
    )


def services_unclassified(
    *, organization_id: uuid.UUID | None = None, task_force: TaskForce | None = None
) -> QuerySet[Service]:
    """Services without a stage (imported from a feed that named none): listed in the
    directory, not offered for referrals until someone gives them one. The to-do list of
    their organisation's admins (``organization_id``) and of the coordinators of a task force
    their organisation belongs to (``task_force``)."""
    services = Service.objects.filter(stage="").select_related("organization")
    if organization_id is not None:
        services = services.filter(organization_id=organization_id)
    if task_force is not None:
        services = services.filter(organization__task_forces=task_force)
    return services.order_by("name", "pk")


def device_token_list(*, user) -> QuerySet[DeviceToken]:
    """The user's own signed-in devices that have not expired, newest first."""
    now = timezone.now()
    return (
        DeviceToken.objects.filter(user=user)
        .filter(Q(expiry__isnull=True) | Q(expiry__gt=now))
        .order_by("-created", "digest")
    )
