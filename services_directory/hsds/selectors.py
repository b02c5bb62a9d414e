"""Reads of the HSDS 3.0 API (``/api/v1/hsds/``). The directory is public information: every
service, organisation and place is listed, unclassified ones too; who may read the API at all
is the view's (``CONTINUUM_HSDS_PUBLIC``). Each list is a queryset in a fixed order, with what
its records read in a fixed number of queries."""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass
from datetime import datetime

from django.db.models import F, Prefetch, Q, QuerySet

from core.errors import NotFound
from services_directory.hsds.mapping import hsds_organization_queryset, hsds_service_queryset
from services_directory.hsds.taxonomy import (
    TAXONOMY_ID,
    TERMS,
    TERMS_BY_ID,
    Term,
    taxonomy_to_hsds,
)
from services_directory.models import (
    Location,
    Organization,
    Service,
    ServiceAtLocation,
    unit_vector,
)
from services_directory.selectors import EARTH_RADIUS_KM

# Terms every service carries an attribute of; the others are conditional or not on services.
EVERY_SERVICE_TERMS = frozenset({"accepting_referrals", "referral_sla_hours"})


@dataclass(frozen=True)
class HsdsServiceFilters:
    search: str | None = None
    taxonomy_term_id: uuid.UUID | None = None
    taxonomy_id: uuid.UUID | None = None
    organization_id: uuid.UUID | None = None
    modified_after: datetime | None = None


def _term_q(term: Term | None) -> Q:
    """Services that carry an attribute of this Continuum term (none for another term)."""
    if term is None:
        return Q(pk__in=[])
    if term.code == "stage":
        return ~Q(stage="")
    if term.parent == "stage":
        return Q(stage=term.code.split(".", 1)[1])
    if term.code in EVERY_SERVICE_TERMS:
        return Q()
    if term.code == "capacity_available":
        return Q(capacity_available__isnull=False)
    return Q(pk__in=[])


def _service_q(filters: HsdsServiceFilters, prefix: str = "") -> Q:
    q = Q()
    if filters.search:
        q &= (
            Q(**{f"{prefix}name__icontains": filters.search})
            | Q(**{f"{prefix}alternate_name__icontains": filters.search})
            | Q(**{f"{prefix}description__icontains": filters.search})
        )
    if filters.taxonomy_term_id is not None:
        term_q = _term_q(TERMS_BY_ID.get(str(filters.taxonomy_term_id)))
        q &= Q(**{f"{prefix}pk__in": Service.objects.filter(term_q).values("pk")})
    if filters.taxonomy_id is not None and filters.taxonomy_id != TAXONOMY_ID:
        q &= Q(pk__in=[])  # every service carries Continuum attributes, and only those
    if filters.organization_id is not None:
        q &= Q(**{f"{prefix}organization_id": filters.organization_id})
    if filters.modified_after is not None:
        q &= Q(**{f"{prefix}updated_at__gte": filters.modified_after})
    return q


def hsds_services(*, filters: HsdsServiceFilters, full: bool) -> QuerySet[Service]:
    services = (
        hsds_service_queryset()
        if full
        else Service.objects.select_related("organization").order_by("pk")
    )
    return services.filter(_service_q(filters))


def hsds_service_get(*, service_id: str) -> Service:
    return _get(hsds_service_queryset(), service_id)


def hsds_organizations(*, search: str | None, full: bool) -> QuerySet[Organization]:
    organizations = hsds_organization_queryset() if full else Organization.objects.order_by("pk")
    if search:
        organizations = organizations.filter(
            Q(name__icontains=search)
            | Q(alternate_name__icontains=search)
            | Q(description__icontains=search)
        )
    return organizations


def with_services(organizations: QuerySet[Organization], *, full: bool) -> QuerySet:
    """Organisations with their services: simple records, or full ones (``full_service``)."""
    services = hsds_service_queryset() if full else Service.objects.order_by("pk")
    return organizations.prefetch_related(Prefetch("services", queryset=services))


def hsds_organization_get(*, organization_id: str, full_service: bool) -> Organization:
    return _get(with_services(hsds_organization_queryset(), full=full_service), organization_id)


def _place_queryset(*, full: bool) -> QuerySet[ServiceAtLocation]:
    places = ServiceAtLocation.objects.select_related("service__organization", "location")
    if full:
        places = places.prefetch_related(
            "schedules",
            "phones__languages",
            "location__languages",
            "location__schedules",
            "location__phones__languages",
        )
    return places.order_by("pk")


def hsds_service_at_locations(
    *,
    filters: HsdsServiceFilters,
    full: bool,
    postcode: str | None = None,
    proximity_m: float | None = None,
) -> QuerySet[ServiceAtLocation]:
    """Services at their places. ``postcode`` keeps places with that postal code; with
    ``proximity_m``, places within that many metres of the centroid of the directory's own
    places with that postcode (Continuum geocodes nothing)."""
    without_date = HsdsServiceFilters(
        search=filters.search,
        taxonomy_term_id=filters.taxonomy_term_id,
        taxonomy_id=filters.taxonomy_id,
        organization_id=filters.organization_id,
    )
    places = _place_queryset(full=full).filter(_service_q(without_date, "service__"))
    if filters.modified_after is not None:
        places = places.filter(
            Q(service__updated_at__gte=filters.modified_after)
            | Q(location__updated_at__gte=filters.modified_after)
        )
    if postcode:
        same = Location.objects.filter(postal_code__iexact=postcode.strip())
        if proximity_m is None:
            return places.filter(location__in=same)
        points = list(same.exclude(latitude=None).values_list("latitude", "longitude"))
        if not points:
            return places.none()
        x, y, z = (sum(axis) for axis in zip(*(unit_vector(*p) for p in points), strict=True))
        norm = math.sqrt(x * x + y * y + z * z) or 1.0
        x, y, z = x / norm, y / norm, z / norm
        radians = min(proximity_m / 1000 / EARTH_RADIUS_KM, math.pi)
        places = places.annotate(
            dot=F("location__unit_x") * x + F("location__unit_y") * y + F("location__unit_z") * z
        ).filter(dot__gte=math.cos(radians))
    return places


def hsds_service_at_location_get(*, service_at_location_id: str) -> ServiceAtLocation:
    return _get(_place_queryset(full=True), service_at_location_id)


def hsds_taxonomies(*, search: str | None) -> list[dict]:
    taxonomy = taxonomy_to_hsds()
    if search and not _matches(search, taxonomy["name"], taxonomy["description"]):
        return []
    return [taxonomy]


def hsds_taxonomy_get(*, taxonomy_id: str) -> dict:
    if _uuid(taxonomy_id) != TAXONOMY_ID:
        raise NotFound()
    return taxonomy_to_hsds()


def hsds_taxonomy_terms(
    *,
    search: str | None,
    taxonomy_id: uuid.UUID | None,
    top_only: bool,
    parent_id: uuid.UUID | None,
) -> list[Term]:
    if taxonomy_id is not None and taxonomy_id != TAXONOMY_ID:
        return []
    terms = sorted(TERMS, key=lambda term: str(term.id))
    if search:
        terms = [t for t in terms if _matches(search, t.code, t.name, t.description)]
    if top_only:
        terms = [t for t in terms if t.parent is None]
    if parent_id is not None:
        parent = TERMS_BY_ID.get(str(parent_id))
        terms = [t for t in terms if parent is not None and t.parent == parent.code]
    return terms


def hsds_taxonomy_term_get(*, term_id: str) -> Term:
    term = TERMS_BY_ID.get(str(_uuid(term_id)))
    if term is None:
        raise NotFound()
    return term


def _matches(search: str, *texts: str) -> bool:
    needle = search.casefold()
    return any(needle in text.casefold() for text in texts)


def _uuid(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except (ValueError, TypeError):
        raise NotFound() from None


def _get(queryset: QuerySet, pk: str):
    found = queryset.filter(pk=_uuid(pk)).first()
    if found is None:
        raise NotFound()
    return found
