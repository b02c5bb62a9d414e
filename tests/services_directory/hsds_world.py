"""What the HSDS tests share: the specification's schemas, validated with their references
resolved from the shared folder, and a small directory with something at every level."""

from __future__ import annotations

import functools
import json
from datetime import date, time
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import URLValidator
from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from services_directory.models import Language, Phone, Schedule, ServiceAtLocation
from services_directory.services import (
    WeeklyHours,
    location_create,
    opening_hours_rebuild,
    organization_create,
    service_create,
    task_force_create,
)

SHARED = Path(settings.BASE_DIR).parent / "shared" / "hsds"
SPEC = "https://raw.githubusercontent.com/openreferral/specification/3.0/schema/"


def format_checker() -> FormatChecker:
    checker = FormatChecker()
    url_validator = URLValidator()

    # jsonschema checks "uri" only with optional packages; Django's validator is stricter
    # than RFC 3986 for the http(s) urls we write, which is what we want to prove.
    @checker.checks("uri", raises=DjangoValidationError)
    def is_uri(value) -> bool:
        if isinstance(value, str):
            url_validator(value)
        return True

    return checker


@functools.cache
def registry() -> Registry:
    """Every schema of the shared folder under its address in the specification, so that the
    references of the HSDS API description (absolute) and of the tables (relative) resolve
    without the network. The ``*_list.json`` schemas the description names are not in the
    3.0 folder: a list entry is checked against the full record's schema, whose nested
    parts are all optional."""
    resources = []
    folder = SHARED / "schema"
    for file in sorted(folder.glob("*.json")):
        if file.name == "openapi.json":
            continue
        contents = json.loads(file.read_text())
        resources.append(
            (SPEC + file.name, Resource.from_contents(contents, default_specification=DRAFT202012))
        )
    for file in sorted((folder / "compiled").glob("*.json")):
        contents = json.loads(file.read_text())
        resources.append(
            (
                SPEC + "compiled/" + file.name,
                Resource.from_contents(contents, default_specification=DRAFT202012),
            )
        )
        resources.append(
            (
                SPEC + "compiled/" + file.stem + "_list.json",
                Resource.from_contents(contents, default_specification=DRAFT202012),
            )
        )
    return Registry().with_resources(resources)


def validator_for(schema: dict) -> Draft202012Validator:
    return Draft202012Validator(schema, registry=registry(), format_checker=format_checker())


def assert_matches(schema: dict, body, what: str) -> None:
    errors = sorted(validator_for(schema).iter_errors(body), key=lambda e: list(e.absolute_path))
    assert not errors, f"{what}: " + "; ".join(
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in errors[:5]
    )


def build_directory(admin) -> dict:
    """A small task force: outreach and treatment, night hours past midnight, languages,
    phones on every kind of parent, a monthly schedule, a location without an address."""
    outreach = organization_create(
        name="Red Cross Berlin",
        kind="red_cross",
        description="Street outreach and naloxone.",
        email="outreach@example.org",
        website="https://example.org/outreach",
        year_incorporated=1921,
    )
    clinic = organization_create(
        name="Klinik Nord",
        kind="treatment",
        description="Opioid substitution treatment.",
        legal_status="gGmbH",
        parent_organization=outreach,
    )
    task_force_create(
        name="Berlin", area="Berlin", time_zone="Europe/Berlin", organizations=[outreach, clinic]
    )
    Phone.objects.create(
        organization=outreach, number="+49 30 1234567", type="voice", extension="12"
    )
    hotline = Phone.objects.create(organization=clinic, number="+49 30 7654321", extension="012")
    Language.objects.create(phone=hotline, code="tr", name="Turkish", note="Mornings")
    drop_in = location_create(
        actor=admin,
        organization=outreach,
        data={
            "name": "Drop-in Mitte",
            "latitude": 52.5208,
            "longitude": 13.4094,
            "time_zone": "Europe/Berlin",
            "url": "https://example.org/mitte",
            "address_1": "Torstraße 1",
            "city": "Berlin",
            "postal_code": "10119",
            "country": "DE",
        },
        schedules=[
            WeeklyHours(byday="FR,SA", opens_at=time(22), closes_at=time(4), description="Night")
        ],
    )
    Language.objects.create(location=drop_in, code="ar", name="Arabic")
    Phone.objects.create(location=drop_in, number="+49 30 555 0101", type="text")
    ward = location_create(
        actor=admin,
        organization=clinic,
        data={
            "name": "Ward 3",
            "latitude": -33.8688,
            "longitude": 151.2093,
            "time_zone": "Australia/Sydney",
            "location_type": "physical",
        },
    )
    night = service_create(
        actor=admin,
        organization=outreach,
        data={
            "name": "Night outreach",
            "stage": "outreach",
            "capacity_available": 3,
            "url": "https://example.org/night",
            "email": "night@example.org",
            "minimum_age": 16,
            "eligibility_description": "Anyone using drugs in Mitte.",
        },
        location_ids=[drop_in.pk],
        languages=["de", "ar"],
        phones=[{"number": "+49 30 999", "type": "cell", "description": "Team phone"}],
        schedules=[WeeklyHours(byday="SU", opens_at=time(20, 30), closes_at=time(2))],
    )
    place = ServiceAtLocation.objects.get(service=night)
    place.description = "Outreach starts at the drop-in."
    place.save()
    Schedule.objects.create(
        service_at_location=place, byday="MO", opens_at=time(23), closes_at=time(1, 15)
    )
    Phone.objects.create(service_at_location=place, number="+49 30 555 0102")
    treatment = service_create(
        actor=admin,
        organization=clinic,
        data={
            "name": "Opioid substitution",
            "stage": "treatment",
            "status": "temporarily closed",
            "accepting_referrals": False,
            "referral_sla_hours": 24,
        },
        location_ids=[ward.pk],
        languages=["en"],
    )
    peer = service_create(
        actor=admin,
        organization=clinic,
        data={"name": "Peer recovery group", "stage": "recovery", "capacity_available": 0},
    )
    Schedule.objects.create(
        service=peer,
        freq="MONTHLY",
        byday="1MO",
        opens_at=time(18),
        closes_at=time(20),
        valid_from=date(2025, 1, 1),
        valid_to=date(2026, 12, 31),
        notes="First Monday of the month",
    )
    opening_hours_rebuild(service_ids=[night.pk, treatment.pk, peer.pk])
    return {"outreach": outreach, "clinic": clinic, "night": night, "drop_in": drop_in}
