"""HSDS 3.0 import and export: the specification's own examples, schema validity of every
exported record, an exact export -> import -> export round trip, idempotent re-imports, bad
records, the management commands and ``GET /api/v1/hsds/``."""

from __future__ import annotations

import functools
import json
import shutil
import uuid
from datetime import time
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.core.validators import URLValidator
from django.db import connection
from django.test.utils import CaptureQueriesContext
from jsonschema import Draft202012Validator, FormatChecker
from rest_framework.test import APIClient

from audit.models import AuditEvent
from services_directory.hsds.exporter import hsds_export
from services_directory.hsds.importer import hsds_import
from services_directory.hsds.mapping import service_to_hsds, utc_offset_hours
from services_directory.models import (
    Language,
    Location,
    OpeningHours,
    Organization,
    Phone,
    Schedule,
    Service,
    ServiceAtLocation,
    TaskForce,
)
from services_directory.services import (
    WeeklyHours,
    location_create,
    organization_create,
    service_create,
    task_force_create,
)
from tests.services_directory.hsds_world import build_directory

pytestmark = pytest.mark.django_db

SHARED = Path(settings.BASE_DIR).parent / "shared" / "hsds"
EXAMPLE_ORGANIZATION_ID = "d9d5e0f5-d3ce-4f73-9a2f-4dd0ecc6c610"
EXAMPLE_SERVICE_ID = "ac148810-d857-441c-9679-408f346de14b"
EXAMPLE_BAD_LOCATION_ID = "3a19ff88-4620-4d17-9830-ac1d859eb5d5"  # latitude 100
HSDS_URL = "/api/v1/hsds/services/"


@pytest.fixture
def shared() -> Path:
    if not SHARED.is_dir():
        pytest.skip(
            f"the HSDS schemas and examples are not at {SHARED}: check out the shared folder "
            "next to the repository (CI does)"
        )
    return SHARED


def _format_checker() -> FormatChecker:
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
def _validator(name: str) -> Draft202012Validator:
    """The compiled schemas are large: load each once per test run."""
    schema = json.loads((SHARED / "schema" / "compiled" / f"{name}.json").read_text())
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, format_checker=_format_checker())


def assert_valid(name: str, record: dict) -> None:
    errors = sorted(_validator(name).iter_errors(record), key=lambda e: list(e.absolute_path))
    assert not errors, f"{name} {record.get('id')}: " + "; ".join(
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in errors[:5]
    )


def read_export(folder: Path) -> tuple[list[dict], list[dict]]:
    return (
        json.loads((folder / "organizations.json").read_text()),
        json.loads((folder / "services.json").read_text()),
    )


def attribute_values(record: dict) -> dict[str, str | None]:
    """A record's Continuum attributes: term code -> value."""
    values = {}
    for item in record["attributes"]:
        assert item["link_id"] == record["id"]
        assert item["taxonomy_term_id"] == item["taxonomy_term"]["id"]
        values[item["taxonomy_term"]["code"]] = item.get("value")
    return values


def flush_directory() -> None:
    for model in (OpeningHours, Schedule, Language, Phone, ServiceAtLocation, Service, Location):
        model.objects.all().delete()
    TaskForce.objects.all().delete()
    Organization.objects.all().delete()


def updated_at_values() -> dict[str, object]:
    values: dict[str, object] = {}
    for model in (Organization, Service, Location):
        values.update(
            {
                f"{model.__name__}:{pk}": at
                for pk, at in model.objects.values_list("pk", "updated_at")
            }
        )
    return values


def located_opening_hours() -> set[tuple]:
    return set(
        OpeningHours.objects.filter(location__isnull=False).values_list(
            "service_id", "location_id", "time_zone", "opens_minute", "closes_minute"
        )
    )


@pytest.fixture
def admin():
    return get_user_model().objects.create_superuser(
        "hsds-admin", "hsds-admin@example.org", "a long test password"
    )


@pytest.fixture
def directory(admin):
    return build_directory(admin)


# --- the specification's examples ------------------------------------------------------------


def test_shared_examples_import_except_the_bad_location(shared, tmp_path):
    # given the specification's organisation and service examples, whose location has
    # latitude 100
    for name in ("organization_full.json", "service_full.json"):
        shutil.copy(shared / "examples" / name, tmp_path / name)

    # when
    report = hsds_import(path=tmp_path, default_kind="ngo", default_stage="screening")

    # then the location is reported under its own id, with the reason
    assert [(kind, pk) for kind, pk, _ in report.errors] == [("location", EXAMPLE_BAD_LOCATION_ID)]
    assert "latitude" in report.errors[0][2] and "100" in report.errors[0][2]
    # and everything else is imported
    assert (report.created, report.updated) == (2, 0)
    organization = Organization.objects.get(pk=EXAMPLE_ORGANIZATION_ID)
    assert (organization.kind, organization.year_incorporated) == ("ngo", 2011)
    assert organization.group.name == f"org:{organization.pk}"
    service = Service.objects.get(pk=EXAMPLE_SERVICE_ID)
    assert (service.stage, service.status, service.organization_id) == (
        "screening",
        "active",
        organization.pk,
    )
    assert list(service.languages.values_list("code", flat=True)) == ["ur"]
    phone = service.phones.get()
    assert (phone.extension, phone.type) == ("100", "voice")
    schedule = service.schedules.get()
    assert (schedule.byday, schedule.opens_at, schedule.closes_at) == ("TH,FR", time(10), time(18))
    assert not Location.objects.exists()
    assert not service.service_at_locations.exists()
    # the unknown parent organisation is a warning, not a failure
    assert [pk for _, pk, _ in report.warnings] == [EXAMPLE_ORGANIZATION_ID]


def test_shared_examples_reimport_changes_nothing(shared, tmp_path):
    # given the examples imported once
    for name in ("organization_full.json", "service_full.json"):
        shutil.copy(shared / "examples" / name, tmp_path / name)
    hsds_import(path=tmp_path, default_kind="ngo", default_stage="screening")
    before = updated_at_values()
    rows = {m.__name__: m.objects.count() for m in (Phone, Language, Schedule)}

    # when
    report = hsds_import(path=tmp_path, default_kind="ngo", default_stage="screening")

    # then
    assert (report.created, report.updated, report.unchanged) == (0, 0, 2)
    assert updated_at_values() == before
    assert {m.__name__: m.objects.count() for m in (Phone, Language, Schedule)} == rows


def test_a_stock_feed_without_a_stage_imports_its_services_unclassified_and_searchable(
    shared, client
):
    # given the specification's own service example: no Continuum stage, no kind, and a
    # taxonomy term Continuum does not know

    # when it is imported without defaults
    report = hsds_import(path=shared / "examples" / "service_full.json")

    # then the service is imported unclassified, only its bad location is reported
    assert report.errors == [
        ("location", EXAMPLE_BAD_LOCATION_ID, "location.latitude: 100 is outside -90..90")
    ]
    assert report.unclassified == [EXAMPLE_SERVICE_ID]
    assert "1 service(s) unclassified (no stage)" in report.summary()
    service = Service.objects.get(pk=EXAMPLE_SERVICE_ID)
    assert (service.stage, service.classified, service.organization.kind) == ("", False, "")
    # and it is listed by a search of the directory and of the HSDS API, without a stage
    found = client.get("/api/v1/services/", {"q": service.name[:6]}).json()["results"]
    assert [row["id"] for row in found] == [EXAMPLE_SERVICE_ID]
    hsds = client.get(HSDS_URL, {"search": service.name[:6]}).json()
    assert [row["id"] for row in hsds["contents"]] == [EXAMPLE_SERVICE_ID]
    codes = [a["taxonomy_term"]["code"] for a in hsds["contents"][0]["attributes"]]
    assert not [code for code in codes if code.startswith("stage")]


@pytest.mark.parametrize(
    ("term", "stage"),
    [
        (
            {"code": "RX-8450.8000", "name": "Residential treatment", "taxonomy": "AIRS"},
            "treatment",
        ),
        ({"code": "x", "name": "Harm Reduction", "taxonomy": "Open Eligibility"}, "harm_reduction"),
        ({"code": "local-42", "name": "Night bus", "taxonomy": "Our own"}, "outreach"),
    ],
)
def test_a_taxonomy_term_maps_a_stock_service_to_a_stage(shared, tmp_path, settings, term, stage):
    # given a stock service whose attribute names a term of another taxonomy, and the
    # operator's own addition to the mapping table
    settings.CONTINUUM_HSDS_STAGE_TERMS = {"local-42": "outreach"}
    record = json.loads((shared / "examples" / "service_full.json").read_text())
    record["attributes"][0]["taxonomy_term"].update(term)
    (tmp_path / "services.json").write_text(json.dumps([record]))

    # when
    report = hsds_import(path=tmp_path, default_stage="screening")

    # then the term wins over the default, and the service is classified
    assert report.unclassified == []
    assert Service.objects.get(pk=EXAMPLE_SERVICE_ID).stage == stage


def test_default_stage_applies_when_no_term_maps(shared):
    # given / when
    report = hsds_import(path=shared / "examples" / "service_full.json", default_stage="recovery")

    # then
    assert report.unclassified == []
    assert Service.objects.get(pk=EXAMPLE_SERVICE_ID).stage == "recovery"


def test_dry_run_reports_and_changes_nothing(shared, directory, tmp_path):
    # given an export, the directory emptied
    hsds_export(path=tmp_path)
    flush_directory()
    audit_count = AuditEvent.objects.count()

    # when it is imported as a dry run, through the command
    out, err = StringIO(), StringIO()
    call_command("import_hsds", str(tmp_path), "--dry-run", "--progress", stdout=out, stderr=err)

    # then it says what would happen, shows progress, and nothing is written
    assert "dry run, nothing written: would be 5 created, 0 updated" in out.getvalue()
    assert "importing: 5/5 records (100%)" in err.getvalue()
    assert not Service.objects.exists() and not Organization.objects.exists()
    assert AuditEvent.objects.count() == audit_count


# --- export ------------------------------------------------------------------------------------


def test_every_exported_record_is_valid_hsds(shared, directory, tmp_path):
    # given the directory

    # when
    report = hsds_export(path=tmp_path / "export")

    # then
    organizations, services = read_export(tmp_path / "export")
    assert (report.organizations, report.services) == (2, 3)
    assert len(organizations) == 2 and len(services) == 3
    for record in organizations:
        assert_valid("organization", record)
    for record in services:
        assert_valid("service", record)
    assert [r["id"] for r in services] == sorted(r["id"] for r in services)
    night = next(r for r in services if r["name"] == "Night outreach")
    assert '"continuum":' not in json.dumps(services) + json.dumps(organizations)
    assert attribute_values(night) == {
        "stage.outreach": None,
        "accepting_referrals": "true",
        "capacity_available": "3",
        "referral_sla_hours": "48",
    }
    assert night["last_modified"].endswith("Z")
    location = night["service_at_locations"][0]["location"]
    assert attribute_values(location) == {"time_zone": "Europe/Berlin"}
    assert location["addresses"][0]["address_type"] == "physical"
    # Berlin hours with Berlin's offset on the day of the export, and the zone itself
    offset = utc_offset_hours("Europe/Berlin")
    assert offset in (1, 2)
    night_hours = location["schedules"][0]
    assert night_hours["timezone"] == offset
    assert night_hours["closes_at"] == f"04:00:00+0{offset}:00"
    assert attribute_values(night_hours) == {"time_zone": "Europe/Berlin"}
    sydney = next(r for r in services if r["name"] == "Opioid substitution")
    assert attribute_values(sydney)["accepting_referrals"] == "false"
    clinic = next(r for r in organizations if r["name"] == "Klinik Nord")
    assert attribute_values(clinic) == {"organization_kind.treatment": None}
    assert clinic["parent_organization_id"] == str(directory["outreach"].pk)
    assert attribute_values(clinic["phones"][0]) == {"phone_extension": "012"}
    assert "extension" not in clinic["phones"][0]
    ward = clinic["locations"][0]
    assert ward["addresses"] == [] and "url" not in ward


def test_export_import_export_is_exact(shared, directory, tmp_path):
    # given an export of the directory, and the directory emptied
    hsds_export(path=tmp_path / "first")
    hours = located_opening_hours()
    flush_directory()

    # when the export is imported and exported again (into a directory with the same task
    # force: task forces are not HSDS, and the hours of a service without a place are kept
    # in its task force's zone)
    report = hsds_import(path=tmp_path / "first")
    task_force_create(
        name="Berlin",
        area="Berlin",
        time_zone="Europe/Berlin",
        organizations=list(Organization.objects.all()),
    )
    hsds_export(path=tmp_path / "second")

    # then
    assert report.errors == [] and report.warnings == []
    assert (report.created, report.updated, report.unchanged) == (5, 0, 0)
    for name in ("organizations.json", "services.json"):
        assert (tmp_path / "second" / name).read_bytes() == (tmp_path / "first" / name).read_bytes()
    assert located_opening_hours() == hours
    assert Organization.objects.get(name="Klinik Nord").group.name.startswith("org:")


def test_reimport_of_an_export_writes_nothing(shared, directory, tmp_path):
    # given the directory exported
    hsds_export(path=tmp_path / "export")
    before = updated_at_values()

    # when
    report = hsds_import(path=tmp_path / "export")

    # then
    assert report.errors == []
    assert (report.created, report.updated, report.unchanged) == (0, 0, 5)
    assert updated_at_values() == before


def test_collections_in_a_record_replace_the_stored_ones(directory, tmp_path):
    # given an exported service whose phones and places are then dropped from the record
    record = service_to_hsds(Service.objects.get(pk=directory["night"].pk))
    record["phones"] = []
    record["service_at_locations"] = []
    record["attributes"] = [
        a for a in record["attributes"] if a["taxonomy_term"]["code"] != "capacity_available"
    ]
    (tmp_path / "services.json").write_text(json.dumps([record]))

    # when
    report = hsds_import(path=tmp_path / "services.json")

    # then
    assert (report.updated, report.errors) == (1, [])
    night = Service.objects.get(pk=directory["night"].pk)
    assert not night.phones.exists()
    assert not night.service_at_locations.exists()
    assert night.capacity_available is None
    assert list(night.languages.order_by("code").values_list("code", flat=True)) == ["ar", "de"]
    # opening hours now follow the service's own schedule in the task force's zone
    assert set(night.opening_hours.values_list("location_id", "time_zone")) == {
        (None, "Europe/Berlin")
    }


# --- bad records ---------------------------------------------------------------------------------


def _service_record(pk: str, organization_id: str, **fields) -> dict:
    return {
        "id": pk,
        "name": f"Service {pk[:4]}",
        "status": "active",
        "organization_id": organization_id,
        "continuum": {"stage": "screening"},
        **fields,
    }


@pytest.fixture
def bad_batch(tmp_path) -> Path:
    organization_id = "11111111-1111-4111-8111-111111111111"
    folder = tmp_path / "batch"
    folder.mkdir()
    (folder / "organizations.json").write_text(
        json.dumps(
            {
                "id": organization_id,
                "name": "Harm Reduction Hamburg",
                "description": "Drug checking.",
                "continuum": {"kind": "harm_reduction"},
            }
        )
    )
    services = [
        _service_record("22222222-2222-4222-8222-222222222222", organization_id),
        _service_record(
            "33333333-3333-4333-8333-333333333333",
            organization_id,
            continuum={"stage": "nonsense"},
        ),
        _service_record("not-a-uuid", organization_id),
        _service_record(
            "44444444-4444-4444-8444-444444444444",
            organization_id,
            schedules=[{"id": "55555555-5555-4555-8555-555555555555", "opens_at": "25:00"}],
        ),
    ]
    (folder / "services.json").write_text(json.dumps(services))
    return folder


def test_bad_records_are_reported_and_the_rest_imported(bad_batch):
    # given a batch with a bad stage, a bad id and a bad opening time

    # when
    report = hsds_import(path=bad_batch)

    # then
    assert (report.created, report.updated) == (2, 0)
    errors = {(kind, pk): reason for kind, pk, reason in report.errors}
    assert set(errors) == {
        ("service", "33333333-3333-4333-8333-333333333333"),
        ("service", "not-a-uuid"),
        ("service", "44444444-4444-4444-8444-444444444444"),
    }
    assert "stage" in errors[("service", "33333333-3333-4333-8333-333333333333")]
    assert "nonsense" in errors[("service", "33333333-3333-4333-8333-333333333333")]
    assert "not a UUID" in errors[("service", "not-a-uuid")]
    assert "opens_at" in errors[("service", "44444444-4444-4444-8444-444444444444")]
    assert list(Service.objects.values_list("pk", flat=True)) == [
        uuid.UUID("22222222-2222-4222-8222-222222222222")
    ]
    assert not Schedule.objects.exists()


def test_import_command_exits_non_zero_after_importing_the_rest(bad_batch):
    # given a batch with bad records
    out, err = StringIO(), StringIO()

    # when
    with pytest.raises(CommandError, match="3 record"):
        call_command("import_hsds", str(bad_batch), stdout=out, stderr=err)

    # then
    assert "service 33333333-3333-4333-8333-333333333333:" in err.getvalue()
    assert "service not-a-uuid:" in err.getvalue()
    assert "2 created, 0 updated, 0 unchanged, 3 failed" in out.getvalue()
    assert Service.objects.count() == 1


def test_export_and_import_commands(shared, directory, tmp_path):
    # given an export made with the command
    out = StringIO()
    call_command("export_hsds", str(tmp_path / "export"), stdout=out)
    assert "2 organizations and 3 services" in out.getvalue()

    # when it is imported with the command
    out = StringIO()
    call_command(
        "import_hsds", str(tmp_path / "export"), "--time-zone", "Europe/Berlin", stdout=out
    )

    # then
    assert "0 created, 0 updated, 5 unchanged, 0 failed" in out.getvalue()


# --- the API -------------------------------------------------------------------------------------


@pytest.fixture
def client(admin) -> APIClient:
    client = APIClient()
    client.force_authenticate(admin)
    return client


def test_hsds_api_returns_a_page_of_valid_service_records(shared, directory, client):
    # given the directory

    # when
    response = client.get(HSDS_URL, {"page": 2, "per_page": 2, "full": "true"})

    # then
    assert response.status_code == 200
    body = response.json()
    assert {k: v for k, v in body.items() if k != "contents"} == {
        "total_items": 3,
        "total_pages": 2,
        "page_number": 2,
        "size": 1,
        "first_page": False,
        "last_page": True,
        "empty": False,
    }
    every_id = sorted(str(pk) for pk in Service.objects.values_list("pk", flat=True))
    assert [record["id"] for record in body["contents"]] == every_id[2:]
    for record in body["contents"]:
        assert_valid("service", record)


def test_hsds_api_page_matches_the_export(directory, client, tmp_path):
    # given an export
    hsds_export(path=tmp_path)
    _, services = read_export(tmp_path)

    # when
    response = client.get(HSDS_URL, {"per_page": 100, "full": "true"})

    # then
    assert response.json()["contents"] == services


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"page": "0"}, "page"),
        ({"page": "abc"}, "page"),
        ({"per_page": "0"}, "per_page"),
        ({"per_page": "1000"}, "per_page"),
        ({"size": "3"}, "size"),
    ],
)
def test_hsds_api_rejects_bad_paging(client, params, field):
    # given / when
    response = client.get(HSDS_URL, params)

    # then
    assert response.status_code == 400
    assert field in response.json()["errors"]


def test_hsds_api_needs_a_signed_in_user():
    # given / when
    response = APIClient().get(HSDS_URL)

    # then
    assert response.status_code == 401


def _fully_nested_service(admin, organization: Organization, number: int) -> Service:
    """A service with something at every level the HSDS record nests, so that every
    prefetch runs whatever the page holds."""
    place = location_create(
        actor=admin,
        organization=organization,
        data={"name": f"Place {number}", "latitude": 52.5, "longitude": 13.4},
        schedules=[WeeklyHours(byday="MO", opens_at=time(9), closes_at=time(17))],
    )
    Language.objects.create(location=place, code="de")
    Phone.objects.create(location=place, number=f"+49 30 {number}")
    service = service_create(
        actor=admin,
        organization=organization,
        data={"name": f"Service {number}", "stage": "screening"},
        location_ids=[place.pk],
        languages=["en"],
        phones=[{"number": f"+49 40 {number}"}],
        schedules=[WeeklyHours(byday="TU", opens_at=time(22), closes_at=time(3))],
    )
    Language.objects.create(phone=service.phones.get(), code="fa")
    at_place = service.service_at_locations.get()
    Phone.objects.create(service_at_location=at_place, number=f"+49 50 {number}")
    Schedule.objects.create(service_at_location=at_place, byday="WE", opens_at=time(8))
    return service


def test_hsds_api_query_count_does_not_grow_with_the_page(admin, client):
    # given two fully nested services, then five
    organization = organization_create(name="Drop-in", kind="harm_reduction", description="-")
    for number in range(2):
        _fully_nested_service(admin, organization, number)
    with CaptureQueriesContext(connection) as two:
        assert client.get(HSDS_URL, {"per_page": 100, "full": "true"}).json()["size"] == 2
    for number in range(2, 5):
        _fully_nested_service(admin, organization, number)

    # when
    with CaptureQueriesContext(connection) as five:
        response = client.get(HSDS_URL, {"per_page": 100, "full": "true"})

    # then
    assert response.json()["size"] == 5
    assert len(five) == len(two)


def test_schema_validation_checks_formats(shared):
    # given a service record with a bad uuid, uri, email and number

    record = {
        "id": "not-a-uuid",
        "name": "x",
        "status": "active",
        "url": "not a url",
        "email": "nobody",
        "minimum_age": "12",
    }

    # when
    errors = list(_validator("service").iter_errors(record))

    # then each is caught, so "valid" in the export tests means something
    assert {e.absolute_path[0] for e in errors} == {"id", "url", "email", "minimum_age"}


def test_location_records_upsert_and_a_bad_one_is_reported(tmp_path):
    # given an organisation, and a locations.json with a good and a bad location of it
    organization = organization_create(name="Drop-in", kind="harm_reduction", description="-")
    good, bad = "66666666-6666-4666-8666-666666666666", "77777777-7777-4777-8777-777777777777"
    (tmp_path / "locations.json").write_text(
        json.dumps(
            [
                {
                    "id": good,
                    "location_type": "physical",
                    "organization_id": str(organization.pk),
                    "latitude": 53.55,
                    "longitude": 9.99,
                    "addresses": [{"address_1": "Hafenstraße 1", "city": "Hamburg"}],
                },
                {"id": bad, "location_type": "physical", "latitude": 10.0},
            ]
        )
    )

    # when
    report = hsds_import(path=tmp_path, time_zone="Europe/Berlin")

    # then
    assert report.created == 1
    assert report.errors == [
        ("location", bad, "location: give both latitude and longitude, or neither")
    ]
    location = Location.objects.get(pk=good)
    assert (location.organization_id, location.time_zone, location.city) == (
        organization.pk,
        "Europe/Berlin",
        "Hamburg",
    )
    assert location.unit_z is not None
