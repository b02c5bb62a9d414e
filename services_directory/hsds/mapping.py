"""A directory row as an HSDS 3.0 record: organisations, services, locations and their parts.

Continuum's own fields travel in a ``continuum`` object on each record (HSDS schemas allow
extra properties): organisation ``kind``; service ``stage``, ``accepting_referrals``,
``capacity_available``, ``referral_sla_hours``; location ``time_zone`` (an IANA name; the HSDS
``timezone`` UTC offset is never written). Ids Continuum derives (address ids, re-parented
nested rows on import) are uuid5 in ``HSDS_NAMESPACE``.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable
from typing import Any

from django.db import models
from django.db.models import Prefetch, QuerySet

from services_directory.models import (
    Language,
    Location,
    Organization,
    Phone,
    Schedule,
    Service,
    ServiceAtLocation,
)

CONTINUUM = "continuum"
# Fixed namespace for ids Continuum derives (address ids, re-parented nested rows).
HSDS_NAMESPACE = uuid.UUID("6f1c3c1e-4c7e-5a57-9a53-6b1f0b1e7a10")
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
        data[CONTINUUM] = {"extension": phone.extension}
    _put(data, "type", phone.type)
    _put(data, "description", phone.description)
    data["languages"] = [language_to_hsds(lang) for lang in _by_id(phone.languages.all())]
    return data


def schedule_to_hsds(schedule: Schedule) -> dict[str, Any]:
    data: dict[str, Any] = {"id": str(schedule.pk), "freq": schedule.freq}
    _put(data, "byday", schedule.byday)
    _put(data, "opens_at", schedule.opens_at and schedule.opens_at.isoformat())
    _put(data, "closes_at", schedule.closes_at and schedule.closes_at.isoformat())
    _put(data, "valid_from", schedule.valid_from and schedule.valid_from.isoformat())
    _put(data, "valid_to", schedule.valid_to and schedule.valid_to.isoformat())
    _put(data, "description", schedule.description)
    _put(data, "notes", schedule.notes)
    return data


def address_id(location_id: uuid.UUID) -> uuid.UUID:
    """We keep one address per location; its HSDS id is derived, so exports are stable."""
    return uuid.uuid5(HSDS_NAMESPACE, f"address:{location_id}")


def location_to_hsds(location: Location) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": str(location.pk),
        "location_type": location.location_type,
        CONTINUUM: {"time_zone": location.time_zone},
    }
    _put(data, "organization_id", location.organization_id and str(location.organization_id))
    for name in ("name", "alternate_name", "description", "transportation", "url"):
        _put(data, name, getattr(location, name))
    _put(data, "latitude", location.latitude)
    _put(data, "longitude", location.longitude)
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
    data["schedules"] = [schedule_to_hsds(s) for s in _by_id(location.schedules.all())]
    return data


def _organization_fields(organization: Organization) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": str(organization.pk),
        "name": organization.name,
        "description": organization.description,
        CONTINUUM: {"kind": organization.kind},
    }
    for name in ("alternate_name", "email", "website", "legal_status", "uri"):
        _put(data, name, getattr(organization, name))
    _put(data, "year_incorporated", organization.year_incorporated)
    _put(
        data,
        "parent_organization_id",
        organization.parent_organization_id and str(organization.parent_organization_id),
    )
    return data


def organization_to_hsds(organization: Organization) -> dict[str, Any]:
    """The full organisation record, with its phones and locations (organizations.json)."""
    data = _organization_fields(organization)
    data["phones"] = [phone_to_hsds(phone) for phone in _by_id(organization.phones.all())]
    data["locations"] = [location_to_hsds(loc) for loc in _by_id(organization.locations.all())]
    return data


def service_at_location_to_hsds(place: ServiceAtLocation) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": str(place.pk),
        "service_id": str(place.service_id),
        "location_id": str(place.location_id),
        "location": location_to_hsds(place.location),
        "phones": [phone_to_hsds(phone) for phone in _by_id(place.phones.all())],
        "schedules": [schedule_to_hsds(s) for s in _by_id(place.schedules.all())],
    }
    _put(data, "description", place.description)
    return data


def service_to_hsds(service: Service) -> dict[str, Any]:
    """The full service record: its organisation (without the organisation's collections,
    which live in organizations.json), phones, languages, schedules and locations."""
    data: dict[str, Any] = {
        "id": str(service.pk),
        "name": service.name,
        "status": service.status,
        "organization_id": str(service.organization_id),
        "organization": _organization_fields(service.organization),
        CONTINUUM: {
            "stage": service.stage,
            "accepting_referrals": service.accepting_referrals,
            "capacity_available": service.capacity_available,
            "referral_sla_hours": service.referral_sla_hours,
        },
    }
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
    data["phones"] = [phone_to_hsds(phone) for phone in _by_id(service.phones.all())]
    data["languages"] = [language_to_hsds(lang) for lang in _by_id(service.languages.all())]
    data["schedules"] = [schedule_to_hsds(s) for s in _by_id(service.schedules.all())]
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
