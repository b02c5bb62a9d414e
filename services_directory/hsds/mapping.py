"""A directory row as an HSDS 3.0 record: organisations, services, locations and their parts.

Continuum's own fields travel as HSDS ``attributes`` of the published Continuum taxonomy
(``taxonomy``): organisation kind; service stage, accepting referrals, free places and the
answer time; the IANA time zone of locations and schedules. Schedules also carry what HSDS
readers expect: ``timezone`` as the UTC offset in hours and ``opens_at``/``closes_at`` with
that offset, both as the zone stands on the day the record is written. Services carry
``last_modified``. Ids Continuum derives (address ids, attributes, re-parented nested rows on
import) are uuid5 in ``HSDS_NAMESPACE``.

Exports written before the attributes carried a ``continuum`` object instead; the importer
still reads it (``CONTINUUM``).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import models
from django.db.models import Prefetch, QuerySet
from django.utils import timezone

from services_directory.hsds.taxonomy import HSDS_NAMESPACE, attribute
from services_directory.models import (
    Language,
    Location,
    Organization,
    Phone,
    Schedule,
    Service,
    ServiceAtLocation,
)

# The object older exports carried Continuum's fields in (read on import, never written).
CONTINUUM = "continuum"
__all__ = ["HSDS_NAMESPACE"]
EXTENSION_RE = re.compile(r"^(?:0|[1-9][0-9]{0,14})$")


def _by_id(rows: Iterable[models.Model]) -> list:
    return sorted(rows, key=lambda row: str(row.pk))


def _put(data: dict[str, Any], key: str, value: Any) -> None:
    """Optional fields: written only when set (HSDS types reject null and empty uris)."""
    if value is None or value == "":
        return
    data[key] = value


def language_to_hsds(language: Language) -> dict[str, Any]:
    data: dict[str, Any] = {"id": str(language.pk)}
    _put(data, "name", language.name)
    _put(data, "code", language.code)
    _put(data, "note", language.note)
    return data


def phone_to_hsds(phone: Phone) -> dict[str, Any]:
    data: dict[str, Any] = {"id": str(phone.pk), "number": phone.number}
    # HSDS types the extension as a number; one that is not a plain number (or would lose a
    # leading zero) travels in the extension object instead.
    if EXTENSION_RE.match(phone.extension):
        data["extension"] = int(phone.extension)
    elif phone.extension:
        data["attributes"] = [
            attribute(
                code="phone_extension",
                link_entity="phone",
                link_id=phone.pk,
                value=phone.extension,
            )
        ]
    _put(data, "type", phone.type)
    _put(data, "description", phone.description)
    data["languages"] = [language_to_hsds(lang) for lang in _by_id(phone.languages.all())]
    return data


def utc_offset_hours(time_zone: str, *, at: datetime | None = None) -> int | float:
    """The zone's offset from UTC in hours on the day ``at`` (now): 1, -5, 5.5."""
    offset = (at or timezone.now()).astimezone(ZoneInfo(time_zone)).utcoffset()
    hours = offset.total_seconds() / 3600 if offset is not None else 0
    return int(hours) if hours == int(hours) else hours


def _with_offset(value: time, offset: int | float) -> str:
    minutes = round(offset * 60)
    sign = "+" if minutes >= 0 else "-"
    return f"{value.isoformat()}{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def schedule_to_hsds(schedule: Schedule, time_zone: str) -> dict[str, Any]:
    """``time_zone`` is the zone the schedule's wall-clock times are kept in."""
    offset = utc_offset_hours(time_zone)
    data: dict[str, Any] = {"id": str(schedule.pk), "freq": schedule.freq, "timezone": offset}
    _put(data, "byday", schedule.byday)
    _put(data, "opens_at", schedule.opens_at and _with_offset(schedule.opens_at, offset))
    _put(data, "closes_at", schedule.closes_at and _with_offset(schedule.closes_at, offset))
    _put(data, "valid_from", schedule.valid_from and schedule.valid_from.isoformat())
    _put(data, "valid_to", schedule.valid_to and schedule.valid_to.isoformat())
    _put(data, "description", schedule.description)
    _put(data, "notes", schedule.notes)
    data["attributes"] = [
        attribute(code="time_zone", link_entity="schedule", link_id=schedule.pk, value=time_zone)
    ]
    return data


def address_id(location_id: uuid.UUID) -> uuid.UUID:
    """We keep one address per location; its HSDS id is derived, so exports are stable."""
    return uuid.uuid5(HSDS_NAMESPACE, f"address:{location_id}")


def location_fields(location: Location) -> dict[str, Any]:
    """The location's one-to-one fields and attributes, without its collections."""
    data = location_to_hsds(location, collections=False)
    return data


def location_to_hsds(location: Location, *, collections: bool = True) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": str(location.pk),
        "location_type": location.location_type,
        "attributes": [
            attribute(
                code="time_zone",
                link_entity="location",
                link_id=location.pk,
                value=location.time_zone,
            )
        ],
    }
    _put(data, "organization_id", location.organization_id and str(location.organization_id))
    for name in ("name", "alternate_name", "description", "transportation", "url"):
        _put(data, name, getattr(location, name))
    _put(data, "latitude", location.latitude)
    _put(data, "longitude", location.longitude)
    if not collections:
        return data
    data["addresses"] = []
    if location.address_1:
        address: dict[str, Any] = {
            "id": str(address_id(location.pk)),
            "location_id": str(location.pk),
            "address_type": "physical",
            # Required by the schema, even when we do not know them.
            "address_1": location.address_1,
            "city": location.city,
            "state_province": location.state_province,
            "postal_code": location.postal_code,
            "country": location.country,
        }
        _put(address, "address_2", location.address_2)
        _put(address, "region", location.region)
        data["addresses"].append(address)
    data["languages"] = [language_to_hsds(lang) for lang in _by_id(location.languages.all())]
    data["phones"] = [phone_to_hsds(phone) for phone in _by_id(location.phones.all())]
    data["schedules"] = [
        schedule_to_hsds(s, location.time_zone) for s in _by_id(location.schedules.all())
    ]
    return data


def _organization_fields(organization: Organization) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": str(organization.pk),
        "name": organization.name,
        "description": organization.description,
        "attributes": [],
    }
    if organization.kind:
        data["attributes"].append(
            attribute(
                code=f"organization_kind.{organization.kind}",
                link_entity="organization",
                link_id=organization.pk,
            )
        )
    for name in ("alternate_name", "email", "website", "legal_status", "uri"):
        _put(data, name, getattr(organization, name))
    _put(data, "year_incorporated", organization.year_incorporated)
    _put(
        data,
        "parent_organization_id",
        organization.parent_organization_id and str(organization.parent_organization_id),
    )
    return data


def organization_fields(organization: Organization) -> dict[str, Any]:
    """The organisation's one-to-one fields and attributes (a list entry of
    ``/organizations``)."""
    return _organization_fields(organization)


def organization_to_hsds(organization: Organization) -> dict[str, Any]:
    """The full organisation record, with its phones and locations (organizations.json)."""
    data = _organization_fields(organization)
    data["phones"] = [phone_to_hsds(phone) for phone in _by_id(organization.phones.all())]
    data["locations"] = [location_to_hsds(loc) for loc in _by_id(organization.locations.all())]
    return data


def last_modified(at: datetime) -> str:
    """HSDS datetimes: UTC, millisecond accuracy, ``Z``."""
    return at.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def service_time_zone(service: Service) -> str:
    """The zone a service's own schedules are read in: its first location's (they are read
    at each location in that location's zone), else its organisation's task force's."""
    places = _by_id(service.service_at_locations.all())
    if places:
        return places[0].location.time_zone
    task_forces = sorted(service.organization.task_forces.all(), key=lambda tf: tf.pk)
    return task_forces[0].time_zone if task_forces else settings.TIME_ZONE


def service_at_location_fields(place: ServiceAtLocation) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": str(place.pk),
        "service_id": str(place.service_id),
        "location_id": str(place.location_id),
    }
    _put(data, "description", place.description)
    return data


def service_at_location_to_hsds(place: ServiceAtLocation) -> dict[str, Any]:
    data = service_at_location_fields(place)
    data["location"] = location_to_hsds(place.location)
    data["phones"] = [phone_to_hsds(phone) for phone in _by_id(place.phones.all())]
    data["schedules"] = [
        schedule_to_hsds(s, place.location.time_zone) for s in _by_id(place.schedules.all())
    ]
    return data


def service_attributes(service: Service) -> list[dict[str, Any]]:
    """Stage (none when unclassified), accepting referrals, free places, answer time."""
    link = {"link_entity": "service", "link_id": service.pk}
    attributes = []
    if service.stage:
        attributes.append(attribute(code=f"stage.{service.stage}", **link))
    attributes.append(
        attribute(
            code="accepting_referrals",
            value="true" if service.accepting_referrals else "false",
            **link,
        )
    )
    if service.capacity_available is not None:
        attributes.append(
            attribute(code="capacity_available", value=str(service.capacity_available), **link)
        )
    attributes.append(
        attribute(code="referral_sla_hours", value=str(service.referral_sla_hours), **link)
    )
    return attributes


def service_fields(service: Service, *, organization: bool = True) -> dict[str, Any]:
    """The service's one-to-one fields, its organisation's (unless ``organization`` is
    false) and its attributes (a list entry of ``/services``)."""
    data: dict[str, Any] = {
        "id": str(service.pk),
        "name": service.name,
        "status": service.status,
        "organization_id": str(service.organization_id),
    }
    if organization:
        data["organization"] = _organization_fields(service.organization)
    data["last_modified"] = last_modified(service.updated_at)
    data["attributes"] = service_attributes(service)
    for name in (
        "alternate_name",
        "description",
        "url",
        "email",
        "interpretation_services",
        "application_process",
        "fees_description",
        "eligibility_description",
        "alert",
        "wait_time",
    ):
        _put(data, name, getattr(service, name))
    _put(data, "minimum_age", service.minimum_age)
    _put(data, "maximum_age", service.maximum_age)
    return data


def service_to_hsds(service: Service) -> dict[str, Any]:
    """The full service record: its organisation (without the organisation's collections,
    which live in organizations.json), phones, languages, schedules and locations."""
    data = service_fields(service)
    time_zone = service_time_zone(service)
    data["phones"] = [phone_to_hsds(phone) for phone in _by_id(service.phones.all())]
    data["languages"] = [language_to_hsds(lang) for lang in _by_id(service.languages.all())]
    data["schedules"] = [schedule_to_hsds(s, time_zone) for s in _by_id(service.schedules.all())]
    data["service_at_locations"] = [
        service_at_location_to_hsds(place) for place in _by_id(service.service_at_locations.all())
    ]
    return data


def _location_prefetches(prefix: str) -> list[str]:
    return [
        f"{prefix}languages",
        f"{prefix}schedules",
        f"{prefix}phones__languages",
    ]


def hsds_service_queryset() -> QuerySet[Service]:
    """Services with everything ``service_to_hsds`` reads, in a fixed number of queries."""
    return (
        Service.objects.select_related("organization")
        .prefetch_related(
            "organization__task_forces",
            "languages",
            "schedules",
            "phones__languages",
            Prefetch(
                "service_at_locations",
                queryset=ServiceAtLocation.objects.select_related("location").prefetch_related(
                    "schedules",
                    "phones__languages",
                    *_location_prefetches("location__"),
                ),
            ),
        )
        .order_by("pk")
    )


def hsds_organization_queryset() -> QuerySet[Organization]:
    return Organization.objects.prefetch_related(
        "phones__languages",
        Prefetch(
            "locations",
            queryset=Location.objects.prefetch_related(*_location_prefetches("")),
        ),
    ).order_by("pk")
