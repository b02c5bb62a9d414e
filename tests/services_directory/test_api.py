"""The directory API as its users call it: filters, bad input, org admins' edits, accounts."""

from __future__ import annotations

from datetime import datetime, time
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from services_directory.models import Role, Schedule, Service, Stage
from services_directory.services import WeeklyHours
from tests.factories import LocationFactory, OrganizationFactory, ServiceFactory, member

pytestmark = pytest.mark.django_db

SERVICES_URL = "/api/v1/services/"


def weekly(byday, opens, closes):
    return WeeklyHours(
        byday=byday, opens_at=time.fromisoformat(opens), closes_at=time.fromisoformat(closes)
    )


@pytest.fixture
def directory():
    """Two organisations with services at different stages, languages and hours."""
    clinic = OrganizationFactory(name="Clinic")
    drop_in = OrganizationFactory(name="Drop-in", kind="harm_reduction")
    clinic_place = LocationFactory(organization=clinic, latitude=52.52, longitude=13.405)
    drop_in_place = LocationFactory(organization=drop_in, latitude=53.55, longitude=9.99)
    return {
        "clinic": clinic,
        "drop_in": drop_in,
        "clinic_place": clinic_place,
        "treatment": ServiceFactory(
            organization=clinic,
            name="Opioid treatment",
            description="Methadone and buprenorphine",
            stage=Stage.TREATMENT,
            locations=[clinic_place],
            languages=["ar", "en"],
            schedules=[weekly("MO,TU,WE,TH,FR", "09:00", "17:00")],
        ),
        "full": ServiceFactory(
            organization=clinic,
            name="Residential detox",
            stage=Stage.TREATMENT,
            accepting_referrals=False,
            capacity_available=0,
            locations=[clinic_place],
            languages=["en"],
        ),
        "needles": ServiceFactory(
            organization=drop_in,
            name="Syringe service",
            stage=Stage.HARM_REDUCTION,
            locations=[drop_in_place],
            languages=["fa"],
            schedules=[weekly("MO,TU,WE,TH,FR,SA,SU", "20:00", "04:00")],
        ),
    }


@pytest.fixture
def volunteer(client_for, directory):
    return client_for(member(organization=directory["drop_in"], role=Role.VOLUNTEER))


def names(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [item["name"] for item in response.json()["results"]]


# --- filters -------------------------------------------------------------------------------


def test_list_requires_authentication(directory):
    response = APIClient().get(SERVICES_URL)
    assert response.status_code == 401
    assert response.json()["detail"]


def test_stage_filter(volunteer):
    assert names(volunteer.get(SERVICES_URL, {"stage": "treatment"})) == [
        "Opioid treatment",
        "Residential detox",
    ]
    assert names(volunteer.get(SERVICES_URL, {"stage": "harm_reduction"})) == ["Syringe service"]
    assert names(volunteer.get(SERVICES_URL, {"stage": "recovery"})) == []


def test_accepting_filter(volunteer):
    assert names(volunteer.get(SERVICES_URL, {"accepting": "true"})) == [
        "Opioid treatment",
        "Syringe service",
    ]
    assert names(volunteer.get(SERVICES_URL, {"accepting": "false"})) == ["Residential detox"]


def test_language_filter_matches_code_or_name(volunteer):
    assert names(volunteer.get(SERVICES_URL, {"language": "ar"})) == ["Opioid treatment"]
    assert names(volunteer.get(SERVICES_URL, {"language": "AR"})) == ["Opioid treatment"]
    assert names(volunteer.get(SERVICES_URL, {"language": "Persian"})) == ["Syringe service"]
    assert names(volunteer.get(SERVICES_URL, {"language": "en"})) == [
        "Opioid treatment",
        "Residential detox",
    ]


def test_q_searches_name_and_description(volunteer):
    assert names(volunteer.get(SERVICES_URL, {"q": "syringe"})) == ["Syringe service"]
    assert names(volunteer.get(SERVICES_URL, {"q": "buprenorphine"})) == ["Opioid treatment"]


def test_organization_filter(volunteer, directory):
    assert names(volunteer.get(SERVICES_URL, {"organization": str(directory["drop_in"].pk)})) == [
        "Syringe service"
    ]


def test_open_now_uses_the_request_time(volunteer):
    berlin = ZoneInfo("Europe/Berlin")
    with time_machine.travel(datetime(2026, 11, 24, 10, 0, tzinfo=berlin), tick=False):
        assert names(volunteer.get(SERVICES_URL, {"open_now": "true"})) == ["Opioid treatment"]
    with time_machine.travel(datetime(2026, 11, 25, 2, 0, tzinfo=berlin), tick=False):
        assert names(volunteer.get(SERVICES_URL, {"open_now": "true"})) == ["Syringe service"]
    with time_machine.travel(datetime(2026, 11, 25, 2, 0, tzinfo=berlin), tick=False):
        assert len(names(volunteer.get(SERVICES_URL, {"open_now": "false"}))) == 3


def test_near_orders_by_distance_and_reports_it(volunteer):
    response = volunteer.get(SERVICES_URL, {"near": "53.5,10.0"})
    results = response.json()["results"]
    assert [r["name"] for r in results][0] == "Syringe service"
    assert results[0]["distance_km"] == pytest.approx(5.57, abs=0.05)
    assert results[1]["distance_km"] > 200
    # without near there is no distance
    assert volunteer.get(SERVICES_URL).json()["results"][0]["distance_km"] is None


def test_filters_combine_treatment_accepting_open_near_in_arabic(volunteer):
    berlin = ZoneInfo("Europe/Berlin")
    with time_machine.travel(datetime(2026, 11, 24, 11, 0, tzinfo=berlin), tick=False):
        response = volunteer.get(
            SERVICES_URL,
            {
                "stage": "treatment",
                "accepting": "true",
                "open_now": "true",
                "near": "52.5,13.4",
                "language": "ar",
            },
        )
    assert names(response) == ["Opioid treatment"]
    assert response.json()["results"][0]["distance_km"] == pytest.approx(2.29, abs=0.05)


def test_service_detail(volunteer, directory):
    service = directory["treatment"]
    body = volunteer.get(f"{SERVICES_URL}{service.pk}/").json()
    assert body["name"] == "Opioid treatment"
    assert body["organization"]["name"] == "Clinic"
    assert {lang["code"] for lang in body["languages"]} == {"ar", "en"}
    assert body["locations"][0]["time_zone"] == "Europe/Berlin"
    assert body["schedules"][0]["byday"] == "MO,TU,WE,TH,FR"
    assert body["referral_sla_hours"] == 48


def test_unknown_service_is_404_in_the_error_shape(volunteer):
    response = volunteer.get(f"{SERVICES_URL}00000000-0000-0000-0000-000000000000/")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found.", "errors": {}, "code": "not_found"}


def test_pagination(volunteer):
    body = volunteer.get(SERVICES_URL, {"page_size": 2}).json()
    assert body["count"] == 3
    assert len(body["results"]) == 2
    assert body["next"]
    assert len(volunteer.get(SERVICES_URL, {"page_size": 2, "page": 2}).json()["results"]) == 1


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"stage": "detox"}, "stage"),
        ({"stage": ""}, "stage"),
        ({"accepting": "maybe"}, "accepting"),
        ({"open_now": "yesplease"}, "open_now"),
        ({"near": "52.5"}, "near"),
        ({"near": "north,east"}, "near"),
        ({"near": "52.5,13.4,7"}, "near"),
        ({"near": "91,13"}, "near"),
        ({"near": "52,-181"}, "near"),
        ({"near": "nan,13"}, "near"),
        ({"near": "inf,0"}, "near"),
        ({"language": "a"}, "language"),
        ({"language": "<script>"}, "language"),
        ({"language": "x" * 41}, "language"),
        ({"q": "x" * 201}, "q"),
        ({"organization": "not-a-uuid"}, "organization"),
        ({"organization": "00000000-0000-0000-0000-000000000000"}, "organization"),
        ({"colour": "red"}, "colour"),
        ({"page": "0"}, "page"),
        ({"page": "two"}, "page"),
        ({"page_size": "1000"}, "page_size"),
        ({"page_size": "-1"}, "page_size"),
    ],
)
def test_bad_parameters_are_400_naming_the_parameter(volunteer, params, field):
    response = volunteer.get(SERVICES_URL, params)
    assert response.status_code == 400, response.content
    body = response.json()
    assert field in body["errors"]
    assert field in body["detail"]


def test_a_repeated_parameter_is_400(volunteer):
    response = volunteer.get(f"{SERVICES_URL}?stage=treatment&stage=recovery")
    assert response.status_code == 400
    assert "stage" in response.json()["errors"]


def test_list_query_count_does_not_grow_with_the_page(volunteer, directory):
    org = directory["clinic"]
    place = directory["clinic_place"]
    for n in range(30):
        ServiceFactory(
            organization=org,
            name=f"Extra {n}",
            locations=[place],
            languages=["en"],
            schedules=[weekly("MO", "09:00", "10:00")],
            phones=[{"number": "+49 30 1234"}],
        )
    counts = []
    for size in (3, 30):
        with CaptureQueriesContext(connection) as queries:
            response = volunteer.get(
                SERVICES_URL, {"page_size": size, "near": "52.5,13.4", "open_now": "true"}
            )
        assert response.status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1]


# --- organisations and locations -----------------------------------------------------------


def test_organizations_list_and_filters(volunteer, directory):
    body = volunteer.get("/api/v1/organizations/").json()
    assert [o["name"] for o in body["results"]] == ["Clinic", "Drop-in"]
    assert [
        o["name"]
        for o in volunteer.get("/api/v1/organizations/", {"kind": "harm_reduction"}).json()[
            "results"
        ]
    ] == ["Drop-in"]
    assert volunteer.get("/api/v1/organizations/", {"kind": "bakery"}).status_code == 400
    assert volunteer.get("/api/v1/organizations/", {"sort": "x"}).status_code == 400
    detail = volunteer.get(f"/api/v1/organizations/{directory['clinic'].pk}/")
    assert detail.json()["kind"] == "treatment"


def test_locations_list_by_organization(volunteer, directory):
    body = volunteer.get(
        "/api/v1/locations/", {"organization": str(directory["drop_in"].pk)}
    ).json()
    assert body["count"] == 1
    assert volunteer.get("/api/v1/locations/", {"organization": "x"}).status_code == 400


# --- org admins edit their own organisation's directory ------------------------------------


@pytest.fixture
def clinic_admin(client_for, directory):
    return client_for(member(organization=directory["clinic"], role=Role.ORG_ADMIN))


def test_org_admin_edits_own_service_and_hours(clinic_admin, directory):
    service = directory["treatment"]
    response = clinic_admin.patch(
        f"{SERVICES_URL}{service.pk}/",
        {
            "capacity_available": 3,
            "accepting_referrals": False,
            "schedules": [{"byday": "SA", "opens_at": "22:00", "closes_at": "02:00"}],
        },
        format="json",
    )
    assert response.status_code == 200, response.content
    service.refresh_from_db()
    assert (service.capacity_available, service.accepting_referrals) == (3, False)
    assert list(Schedule.objects.filter(service=service).values_list("byday", flat=True)) == ["SA"]
    # and open_now follows the new hours at once (Saturday 23:00 Berlin)
    with time_machine.travel(
        datetime(2026, 11, 28, 23, 0, tzinfo=ZoneInfo("Europe/Berlin")), tick=False
    ):
        assert "Opioid treatment" in names(clinic_admin.get(SERVICES_URL, {"open_now": "true"}))


def test_org_admin_creates_a_service_in_own_organisation(clinic_admin, directory):
    response = clinic_admin.post(
        SERVICES_URL,
        {
            "name": "Evening clinic",
            "stage": "treatment",
            "location_ids": [str(directory["clinic_place"].pk)],
            "languages": ["de", "tr"],
            "phones": [{"number": "+49 30 555 0100", "type": "voice"}],
            "schedules": [{"byday": "MO,WE", "opens_at": "18:00", "closes_at": "21:00"}],
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["organization"]["id"] == str(directory["clinic"].pk)
    assert {lang["code"] for lang in body["languages"]} == {"de", "tr"}
    assert body["locations"][0]["id"] == str(directory["clinic_place"].pk)


def test_org_admin_cannot_edit_another_organisations_service(clinic_admin, directory):
    service = directory["needles"]
    response = clinic_admin.patch(
        f"{SERVICES_URL}{service.pk}/", {"capacity_available": 0}, format="json"
    )
    assert response.status_code == 403
    service.refresh_from_db()
    assert service.capacity_available is None


def test_org_admin_cannot_attach_another_organisations_location(clinic_admin, directory):
    other = LocationFactory(organization=directory["drop_in"])
    response = clinic_admin.post(
        SERVICES_URL,
        {"name": "X", "stage": "treatment", "location_ids": [str(other.pk)]},
        format="json",
    )
    assert response.status_code == 400
    assert "location_ids" in response.json()["errors"]
    assert not Service.objects.filter(name="X").exists()


@pytest.mark.parametrize("role", [Role.PROVIDER, Role.VOLUNTEER, Role.COORDINATOR, Role.OFFICER])
def test_members_who_are_not_org_admins_cannot_edit(client_for, directory, role):
    client = client_for(member(organization=directory["clinic"], role=role))
    service = directory["treatment"]
    assert (
        client.patch(f"{SERVICES_URL}{service.pk}/", {"name": "Renamed"}, format="json").status_code
        == 403
    )
    assert (
        client.post(SERVICES_URL, {"name": "New", "stage": "treatment"}, format="json").status_code
        == 403
    )
    service.refresh_from_db()
    assert service.name == "Opioid treatment"
    assert not Service.objects.filter(name="New").exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"stage": "detox"}, "stage"),
        ({"capacity_available": -1}, "capacity_available"),
        ({"referral_sla_hours": 0}, "referral_sla_hours"),
        ({"email": "not-an-email"}, "email"),
        ({"minimum_age": 30, "maximum_age": 18}, "maximum_age"),
        ({"languages": ["%%"]}, "languages"),
        (
            {"schedules": [{"byday": "MONDAY", "opens_at": "09:00", "closes_at": "10:00"}]},
            "schedules",
        ),
        ({"schedules": [{"byday": "MO", "opens_at": "25:00", "closes_at": "10:00"}]}, "schedules"),
        ({"location_ids": ["nope"]}, "location_ids"),
        ({"phones": [{"number": "call me"}]}, "phones"),
    ],
)
def test_bad_service_input_is_400_and_changes_nothing(clinic_admin, directory, body, field):
    service = directory["treatment"]
    before = Service.objects.filter(pk=service.pk).values().get()
    response = clinic_admin.patch(f"{SERVICES_URL}{service.pk}/", body, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()["errors"]
    assert Service.objects.filter(pk=service.pk).values().get() == before


def test_org_admin_creates_and_edits_a_location(clinic_admin, directory):
    response = clinic_admin.post(
        "/api/v1/locations/",
        {
            "name": "Satellite",
            "latitude": 52.5,
            "longitude": 13.3,
            "time_zone": "Europe/Berlin",
            "schedules": [{"byday": "FR", "opens_at": "20:00", "closes_at": "02:00"}],
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    location_id = response.json()["id"]
    assert response.json()["organization"] == str(directory["clinic"].pk)
    patch = clinic_admin.patch(
        f"/api/v1/locations/{location_id}/", {"city": "Berlin"}, format="json"
    )
    assert patch.status_code == 200
    assert patch.json()["city"] == "Berlin"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "X", "latitude": 95, "longitude": 0}, "latitude"),
        ({"name": "X", "latitude": 52.0}, "longitude"),
        ({"name": "X", "time_zone": "Mars/Olympus"}, "time_zone"),
        ({"name": "X", "country": "Germany"}, "country"),
        ({"latitude": 1, "longitude": 1}, "name"),
    ],
)
def test_bad_location_input_is_400_naming_the_field(clinic_admin, body, field):
    response = clinic_admin.post("/api/v1/locations/", body, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()["errors"]


def test_org_admin_cannot_edit_another_organisations_location(clinic_admin, directory):
    other = LocationFactory(organization=directory["drop_in"], name="Theirs")
    response = clinic_admin.patch(f"/api/v1/locations/{other.pk}/", {"name": "Mine"}, format="json")
    assert response.status_code == 403
    other.refresh_from_db()
    assert other.name == "Theirs"


# --- accounts, health, docs ----------------------------------------------------------------


def test_token_login_and_me(directory):
    user = member(organization=directory["clinic"], role=Role.PROVIDER, username="inbox")
    client = APIClient()
    response = client.post(
        "/api/v1/auth/token/", {"username": "inbox", "password": "pw-for-tests-1"}, format="json"
    )
    assert response.status_code == 200, response.content
    token = response.json()["token"]
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    me = client.get("/api/v1/me/").json()
    assert me["username"] == user.username
    assert me["role"] == "provider"
    assert me["organization"] == {
        "id": str(directory["clinic"].pk),
        "name": "Clinic",
        "kind": "treatment",
    }
    assert me["task_forces"] == []


@pytest.mark.parametrize(
    "body",
    [
        {"username": "inbox", "password": "wrong"},
        {"username": "nobody", "password": "pw-for-tests-1"},
    ],
)
def test_token_login_refuses_bad_credentials_alike(directory, body):
    member(organization=directory["clinic"], username="inbox")
    response = APIClient().post("/api/v1/auth/token/", body, format="json")
    assert response.status_code == 401
    assert "password" in response.json()["errors"]


def test_token_login_names_missing_fields():
    response = APIClient().post("/api/v1/auth/token/", {"username": "x"}, format="json")
    assert response.status_code == 400
    assert "password" in response.json()["errors"]


def test_healthz_schema_and_docs():
    client = APIClient()
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/api/schema/").status_code == 200
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    assert b"cdn" not in docs.content.lower()  # Swagger UI is served from our static files


def test_a_patch_with_an_incomplete_schedule_is_a_400_and_changes_nothing(clinic_admin, directory):
    # found by schemathesis: nested fields are optional in a PATCH, so this was a 500
    service = directory["treatment"]
    before = list(Schedule.objects.filter(service=service).values_list("byday", flat=True))
    response = clinic_admin.patch(
        f"{SERVICES_URL}{service.pk}/",
        {"schedules": [{"byday": "SA", "closes_at": "02:00"}]},
        format="json",
    )
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["schedules"]
    assert list(Schedule.objects.filter(service=service).values_list("byday", flat=True)) == before


def test_an_hsds_page_far_past_the_end_is_empty(volunteer):
    # found by schemathesis: an OFFSET beyond SQLite's integers was a 500
    response = volunteer.get("/api/v1/hsds/services/", {"page": 2**62, "per_page": 50})
    assert response.status_code == 200
    assert response.json()["contents"] == [] and response.json()["empty"] is True
