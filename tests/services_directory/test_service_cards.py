"""The directory list renders services as cards read with flat queries (``service_cards``);
they must be exactly what the documented ``ServiceOutput`` schema renders for the same
service. And the stage copied into the opening hours must follow every change of stage."""

from __future__ import annotations

import json
from datetime import date, time

import pytest
import time_machine
from rest_framework.renderers import JSONRenderer

from services_directory.api.serializers import ServiceOutput
from services_directory.hsds.exporter import hsds_export
from services_directory.hsds.importer import hsds_import
from services_directory.hsds.taxonomy import attribute
from services_directory.models import OpeningHours, Role, Stage
from services_directory.selectors import ServiceFilters, service_cards, service_get, service_list
from services_directory.services import WeeklyHours, service_update
from tests.factories import LocationFactory, OrganizationFactory, ServiceFactory, member
from tests.services_directory.test_opening_hours_and_distance import local

pytestmark = pytest.mark.django_db


def as_json(value):
    return json.loads(JSONRenderer().render(value))


def weekly(byday, opens, closes, **kwargs):
    return WeeklyHours(
        byday=byday,
        opens_at=time.fromisoformat(opens),
        closes_at=time.fromisoformat(closes),
        **kwargs,
    )


@pytest.fixture
def full_service():
    """A service with every related list filled, two locations (one with its own hours)."""
    organization = OrganizationFactory()
    quiet = LocationFactory(
        organization=organization,
        name="B quiet street",
        address_1="Rua 1",
        city="Lisboa",
        country="PT",
        time_zone="Europe/Lisbon",
        latitude=38.72,
        longitude=-9.14,
        schedules=[weekly("SA,SU", "10:00", "14:00", description="weekend")],
    )
    main = LocationFactory(organization=organization, name="A main", latitude=38.70, longitude=-9.1)
    return ServiceFactory(
        organization=organization,
        name="Night clinic",
        alternate_name="NC",
        description="Methadone and buprenorphine",
        stage=Stage.TREATMENT,
        accepting_referrals=False,
        capacity_available=3,
        referral_sla_hours=24,
        eligibility_description="Adults",
        minimum_age=18,
        maximum_age=99,
        wait_time="2 days",
        fees_description="free",
        application_process="walk in",
        interpretation_services="phone",
        alert="closed on holidays",
        url="https://example.org/nc",
        email="nc@example.org",
        locations=[quiet, main],
        languages=["pt", "ar", "en"],
        phones=[{"number": "+351 21 000 0002", "type": "voice"}, {"number": "+351 21 000 0001"}],
        schedules=[
            weekly(
                "MO,TU", "20:00", "02:00", valid_from=date(2026, 1, 1), valid_to=date(2027, 1, 1)
            ),
            weekly("FR", "09:00", "12:30"),
        ],
    )


def test_a_card_is_what_the_documented_schema_renders(full_service):
    # given
    documented = as_json(ServiceOutput(service_get(service_id=full_service.pk)).data)
    # when
    (card,) = service_cards(service_ids=[full_service.pk])
    # then: the same fields, values and order, lists included
    assert list(card) == list(documented)
    assert as_json(card) == documented
    assert [loc["name"] for loc in documented["locations"]] == ["A main", "B quiet street"]
    assert len(documented["locations"][1]["schedules"]) == 1
    assert [p["number"] for p in documented["phones"]] == ["+351 21 000 0001", "+351 21 000 0002"]


def test_the_list_endpoint_renders_the_cards_of_the_documented_schema(api_client, full_service):
    # given
    ServiceFactory(organization=full_service.organization, name="Other, bare")
    api_client.force_authenticate(member(organization=full_service.organization))
    # when
    body = api_client.get("/api/v1/services/", {"near": "38.71,-9.12"}).json()
    # then
    by_id = {item["id"]: item for item in body["results"]}
    expected = as_json(ServiceOutput(service_get(service_id=full_service.pk)).data)
    assert by_id[str(full_service.pk)] == {**expected, "distance_km": pytest.approx(1.8, abs=0.5)}
    assert body["results"][0]["id"] == str(full_service.pk)  # with a location: nearest first
    assert body["results"][1]["locations"] == []
    assert body["results"][1]["distance_km"] is None


def test_cards_keep_the_order_given_and_skip_services_that_are_gone(full_service):
    other = ServiceFactory(organization=full_service.organization, name="Z last by name")
    cards = service_cards(service_ids=[other.pk, full_service.pk])
    assert [c["id"] for c in cards] == [other.pk, full_service.pk]
    other.delete()
    assert [c["id"] for c in service_cards(service_ids=[other.pk, full_service.pk])] == [
        full_service.pk
    ]


# --- the stage copied into the opening hours --------------------------------------------------

MONDAY_NOON = local(2026, 11, 23, 12)


def open_at_stage(stage):
    with time_machine.travel(MONDAY_NOON, tick=False):
        found = service_list(
            filters=ServiceFilters(stage=stage, open_at=MONDAY_NOON, near=(52.5, 13.4))
        )
        return {card["id"] for card in found}


@pytest.fixture
def open_service():
    place = LocationFactory(time_zone="Europe/Berlin")
    return ServiceFactory(
        organization=place.organization,
        locations=[place],
        stage=Stage.SCREENING,
        schedules=[weekly("MO", "08:00", "20:00")],
    )


def test_a_stage_change_through_the_service_moves_the_open_search(open_service):
    assert open_at_stage(Stage.SCREENING) == {open_service.pk}
    # when
    service_update(actor=None, service=open_service, data={"stage": Stage.TREATMENT})
    # then
    assert open_at_stage(Stage.SCREENING) == set()
    assert open_at_stage(Stage.TREATMENT) == {open_service.pk}
    assert set(OpeningHours.objects.values_list("stage", flat=True)) == {Stage.TREATMENT}


def test_a_stage_change_through_the_api_moves_the_open_search(api_client, open_service):
    admin = member(organization=open_service.organization, role=Role.ORG_ADMIN)
    api_client.force_authenticate(admin)
    response = api_client.patch(
        f"/api/v1/services/{open_service.pk}/", {"stage": "harm_reduction"}, format="json"
    )
    assert response.status_code == 200, response.content
    assert open_at_stage(Stage.SCREENING) == set()
    assert open_at_stage(Stage.HARM_REDUCTION) == {open_service.pk}


def test_a_stage_change_through_an_hsds_import_moves_the_open_search(open_service, tmp_path):
    # given the directory as HSDS, with the service's stage changed in it
    hsds_export(path=tmp_path)
    services_file = tmp_path / "services.json"
    records = json.loads(services_file.read_text())
    (record,) = (r for r in records if r["id"] == str(open_service.pk))
    record["attributes"] = [
        a for a in record["attributes"] if not a["taxonomy_term"]["code"].startswith("stage.")
    ] + [attribute(code="stage.recovery", link_entity="service", link_id=open_service.pk)]
    services_file.write_text(json.dumps(records))
    # when
    report = hsds_import(path=tmp_path)
    # then
    assert report.errors == []
    assert open_at_stage(Stage.SCREENING) == set()
    assert open_at_stage(Stage.RECOVERY) == {open_service.pk}
