"""The HSDS 3.0 API (``/api/v1/hsds/``), checked against the specification's own API
description: every path of ``schema/openapi.json`` answers, with each of its parameters, and
every answer validates against the schema the description gives for it."""

from __future__ import annotations

import copy
import json
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from services_directory.hsds.taxonomy import TAXONOMY_ID, TERMS, TERMS_BY_CODE
from services_directory.models import Location, Service, ServiceAtLocation
from services_directory.services import location_create, organization_create, service_create
from tests.services_directory.hsds_world import SHARED, SPEC, assert_matches, build_directory

pytestmark = pytest.mark.django_db

OPENAPI = SHARED / "schema" / "openapi.json"
DESCRIPTION = json.loads(OPENAPI.read_text()) if OPENAPI.is_file() else {"paths": {}}
HSDS_PATHS = sorted(DESCRIPTION["paths"])
BASE = "/api/v1/hsds"
# The 3.0 description answers /service_at_locations/{id} with the *service* schema; the
# record is a service_at_location (as its summary says, and as later versions fix).
ERRATA = {"/service_at_locations/{id}": {"$ref": SPEC + "compiled/service_at_location.json"}}


@pytest.fixture
def described():
    if not OPENAPI.is_file():
        pytest.skip(f"the HSDS API description is not at {OPENAPI}")
    return DESCRIPTION


@pytest.fixture
def admin():
    return get_user_model().objects.create_superuser(
        "hsds-api-admin", "hsds-api@example.org", "a long test password"
    )


@pytest.fixture
def directory(admin):
    return build_directory(admin)


@pytest.fixture
def client(admin) -> APIClient:
    client = APIClient()
    client.force_authenticate(admin)
    return client


def _inline(schema, components: dict):
    """The response schema with the description's own ``#/components`` references inlined
    (the remote ones resolve through the registry of the shared folder)."""
    if isinstance(schema, dict):
        ref = schema.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
            return _inline(components[ref.rsplit("/", 1)[1]], components)
        return {key: _inline(value, components) for key, value in schema.items()}
    if isinstance(schema, list):
        return [_inline(item, components) for item in schema]
    return schema


def response_schema(path: str) -> dict:
    operation = DESCRIPTION["paths"][path]["get"]
    schema = copy.deepcopy(operation["responses"]["200"]["content"]["application/json"]["schema"])
    if path in ERRATA:
        schema = ERRATA[path]
    return _inline(schema, DESCRIPTION["components"]["schemas"])


def query_parameters(path: str) -> list[str]:
    item = DESCRIPTION["paths"][path]
    names = []
    for parameter in [*item.get("parameters", []), *item["get"].get("parameters", [])]:
        if "$ref" in parameter:
            parameter = DESCRIPTION["components"]["parameters"][parameter["$ref"].rsplit("/")[-1]]
        if parameter["in"] == "query":
            names.append(parameter["name"])
    return names


def ids(directory) -> dict[str, str]:
    place = ServiceAtLocation.objects.get(service=directory["night"])
    return {
        "services": str(directory["night"].pk),
        "organizations": str(directory["outreach"].pk),
        "service_at_locations": str(place.pk),
        "taxonomies": str(TAXONOMY_ID),
        "taxonomy_terms": str(TERMS_BY_CODE["stage.outreach"].id),
    }


def url_of(path: str, directory) -> str:
    if "{id}" not in path:
        return BASE + path
    return BASE + path.replace("{id}", ids(directory)[path.strip("/").split("/")[0]])


def samples(directory) -> dict[str, dict[str, str]]:
    """A value for each parameter the description names; a new one without a value here
    fails the parameter test."""
    return {
        "search": {"search": "out"},
        "page": {"page": "1"},
        "per_page": {"per_page": "2"},
        "format": {"format": "json"},
        "taxonomy_term_id": {"taxonomy_term_id": str(TERMS_BY_CODE["stage.outreach"].id)},
        "taxonomy_id": {"taxonomy_id": str(TAXONOMY_ID)},
        "organization_id": {"organization_id": str(directory["outreach"].pk)},
        "modified_after": {"modified_after": "2000-01-01T00:00:00Z"},
        "minimal": {"minimal": "true"},
        "full": {"full": "true"},
        "full_service": {"full_service": "true"},
        "postcode": {"postcode": "10119"},
        "proximity": {"postcode": "10119", "proximity": "1000"},
        "top_only": {"top_only": "true"},
        "parent_id": {"parent_id": str(TERMS_BY_CODE["stage"].id)},
    }


# --- each path of the HSDS API description ---------------------------------------------------


def test_the_description_lists_the_paths_we_serve(described):
    # given / when / then: a path added to the description shows here (and is tested below)
    assert set(described["paths"]) == {
        "/",
        "/services",
        "/services/{id}",
        "/organizations",
        "/organizations/{id}",
        "/service_at_locations",
        "/service_at_locations/{id}",
        "/taxonomies",
        "/taxonomies/{id}",
        "/taxonomy_terms",
        "/taxonomy_terms/{id}",
    }


@pytest.mark.parametrize("path", HSDS_PATHS)
def test_each_path_answers_with_a_valid_record(described, directory, client, path):
    # given the directory and the path as the description names it
    url = url_of(path, directory)

    # when an HSDS client asks for it, as written (no trailing slash) and with one
    answers = [client.get(url.rstrip("/")), client.get(url.rstrip("/") + "/")]

    # then both answer the same, valid against the description's schema for it
    for response in answers:
        assert response.status_code == 200, (url, response.content[:300])
        assert response["Content-Type"].startswith("application/json")
        assert_matches(response_schema(path), response.json(), f"GET {path}")
    assert answers[0].json() == answers[1].json()
    if "contents" in answers[0].json():
        assert answers[0].json()["contents"], f"{path}: an empty page proves little"


@pytest.mark.parametrize("path", HSDS_PATHS)
def test_each_parameter_of_each_path_is_taken(described, directory, client, path):
    # given each query parameter the description gives this path
    url = url_of(path, directory)
    values = samples(directory)

    for name in query_parameters(path):
        # when it is given
        response = client.get(url, values[name])

        # then the answer is a valid record, never the 400 of an unknown parameter
        assert response.status_code == 200, (path, name, response.content[:300])
        assert_matches(response_schema(path), response.json(), f"GET {path}?{name}")


# --- what the parameters do ----------------------------------------------------------------------


def contents_ids(response) -> list[str]:
    assert response.status_code == 200, response.content[:300]
    return [record["id"] for record in response.json()["contents"]]


def test_services_list_its_own_fields_and_full_nests_them(directory, client):
    # given / when
    plain = client.get(f"{BASE}/services", {"per_page": 100}).json()["contents"]
    full = client.get(f"{BASE}/services", {"per_page": 100, "full": "true"}).json()["contents"]

    # then
    assert [r["id"] for r in plain] == [r["id"] for r in full]
    assert "service_at_locations" not in plain[0] and "schedules" not in plain[0]
    assert {"organization", "attributes", "last_modified"} <= set(plain[0])
    assert {"service_at_locations", "schedules", "phones", "languages"} <= set(full[0])


def test_minimal_services_and_minimal_with_full_is_refused(directory, client):
    # given / when
    minimal = client.get(f"{BASE}/services", {"minimal": "true"})
    both = client.get(f"{BASE}/services", {"minimal": "true", "full": "true"})

    # then
    assert {tuple(sorted(r)) for r in minimal.json()["contents"]} == {
        ("id", "last_modified", "name", "status")
    }
    assert both.status_code == 400 and "minimal" in both.json()["errors"]


def test_search_finds_services_organisations_and_terms(directory, client):
    # given / when / then
    assert contents_ids(client.get(f"{BASE}/services", {"search": "substitution"})) == [
        str(Service.objects.get(name="Opioid substitution").pk)
    ]
    assert contents_ids(client.get(f"{BASE}/organizations", {"search": "klinik"})) == [
        str(directory["clinic"].pk)
    ]
    terms = client.get(f"{BASE}/taxonomy_terms", {"search": "harm"}).json()["contents"]
    assert {t["code"] for t in terms} == {
        "stage.harm_reduction",
        "organization_kind.harm_reduction",
    }


def test_modified_after_keeps_what_changed_since(directory, client):
    # given every service and place changed long ago but one service
    Service.objects.update(updated_at=timezone.now() - timedelta(days=30))
    Location.objects.update(updated_at=timezone.now() - timedelta(days=30))
    Service.objects.filter(pk=directory["night"].pk).update(updated_at=timezone.now())
    since = (timezone.now() - timedelta(days=1)).isoformat()

    # when
    services = client.get(f"{BASE}/services", {"modified_after": since})
    places = client.get(f"{BASE}/service_at_locations", {"modified_after": since})

    # then
    assert contents_ids(services) == [str(directory["night"].pk)]
    assert [r["service_id"] for r in places.json()["contents"]] == [str(directory["night"].pk)]


def test_taxonomy_filters_follow_the_attributes(directory, client):
    # given / when
    outreach = client.get(
        f"{BASE}/services", {"taxonomy_term_id": str(TERMS_BY_CODE["stage.outreach"].id)}
    )
    counted = client.get(
        f"{BASE}/services", {"taxonomy_term_id": str(TERMS_BY_CODE["capacity_available"].id)}
    )
    ours = client.get(f"{BASE}/services", {"taxonomy_id": str(TAXONOMY_ID)})
    other = client.get(f"{BASE}/services", {"taxonomy_id": "5c4d79d7-cc55-470e-9f1f-8cad074e4892"})
    bad = client.get(f"{BASE}/services", {"taxonomy_id": "not-a-uuid"})

    # then
    assert contents_ids(outreach) == [str(directory["night"].pk)]
    assert set(contents_ids(counted)) == {
        str(pk)
        for pk in Service.objects.filter(capacity_available__isnull=False).values_list(
            "pk", flat=True
        )
    }
    assert len(contents_ids(ours)) == 3
    assert contents_ids(other) == []
    assert bad.status_code == 400 and "taxonomy_id" in bad.json()["errors"]


def test_organization_filter_and_services_of_an_organisation(directory, client):
    # given / when
    of_clinic = client.get(f"{BASE}/services", {"organization_id": str(directory["clinic"].pk)})
    simple = client.get(f"{BASE}/organizations/{directory['clinic'].pk}").json()
    full = client.get(
        f"{BASE}/organizations/{directory['clinic'].pk}", {"full_service": "true"}
    ).json()

    # then
    clinic_services = sorted(
        str(pk) for pk in directory["clinic"].services.values_list("pk", flat=True)
    )
    assert sorted(contents_ids(of_clinic)) == clinic_services
    assert [s["id"] for s in simple["services"]] == clinic_services
    assert "schedules" not in simple["services"][0]
    assert [s["id"] for s in full["services"]] == clinic_services
    assert "schedules" in full["services"][0]
    assert simple["locations"] and "phones" in simple


def test_places_by_postcode_and_proximity(admin, directory, client):
    # given a second place 600 m from the drop-in, with another postcode
    near = location_create(
        actor=admin,
        organization=directory["outreach"],
        data={
            "name": "Van stop",
            "latitude": 52.5262,
            "longitude": 13.4094,
            "postal_code": "10115",
        },
    )
    service_create(
        actor=admin,
        organization=directory["outreach"],
        data={"name": "Van", "stage": "harm_reduction"},
        location_ids=[near.pk],
    )

    # when
    by_postcode = client.get(f"{BASE}/service_at_locations", {"postcode": "10119"})
    within_1km = client.get(
        f"{BASE}/service_at_locations", {"postcode": "10119", "proximity": "1000"}
    )
    within_100m = client.get(
        f"{BASE}/service_at_locations", {"postcode": "10119", "proximity": "100"}
    )
    alone = client.get(f"{BASE}/service_at_locations", {"proximity": "100"})

    # then
    def location_ids(response):
        return {r["location_id"] for r in response.json()["contents"]}

    drop_in = str(directory["drop_in"].pk)
    assert location_ids(by_postcode) == {drop_in}
    assert location_ids(within_1km) == {drop_in, str(near.pk)}
    assert location_ids(within_100m) == {drop_in}
    assert alone.status_code == 400 and "proximity" in alone.json()["errors"]


def test_taxonomy_terms_by_parent_and_top_only(client):
    # given / when
    stages = client.get(f"{BASE}/taxonomy_terms", {"parent_id": str(TERMS_BY_CODE["stage"].id)})
    top = client.get(f"{BASE}/taxonomy_terms", {"top_only": "true", "per_page": 100})
    every = client.get(f"{BASE}/taxonomy_terms", {"per_page": 100}).json()

    # then
    assert {t["code"] for t in stages.json()["contents"]} == {
        "stage.outreach",
        "stage.screening",
        "stage.harm_reduction",
        "stage.treatment",
        "stage.recovery",
        "stage.social_support",
    }
    assert all("parent_id" not in t for t in top.json()["contents"])
    assert every["total_items"] == len(TERMS)


def test_paging_past_the_end_is_an_empty_page(directory, client):
    # given / when
    body = client.get(f"{BASE}/services", {"page": 9, "per_page": 2}).json()

    # then
    assert (body["total_items"], body["total_pages"], body["size"], body["empty"]) == (
        3,
        2,
        0,
        True,
    )
    assert body["contents"] == [] and body["last_page"] and not body["first_page"]


@pytest.mark.parametrize(
    "url",
    [
        f"{BASE}/services/ac148810-d857-441c-9679-408f346de14b",
        f"{BASE}/services/not-an-id",
        f"{BASE}/organizations/ac148810-d857-441c-9679-408f346de14b",
        f"{BASE}/service_at_locations/ac148810-d857-441c-9679-408f346de14b",
        f"{BASE}/taxonomies/ac148810-d857-441c-9679-408f346de14b",
        f"{BASE}/taxonomy_terms/ac148810-d857-441c-9679-408f346de14b",
    ],
)
def test_unknown_records_are_404(client, url):
    # given / when
    response = client.get(url)

    # then
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_an_unknown_parameter_is_a_400_naming_it(client):
    response = client.get(f"{BASE}/taxonomies", {"sort": "name"})
    assert response.status_code == 400 and "sort" in response.json()["errors"]


# --- who may read it -----------------------------------------------------------------------------


@pytest.mark.parametrize("path", HSDS_PATHS)
def test_without_an_account_only_when_the_operator_publishes_it(
    described, directory, settings, path
):
    # given no account
    anonymous = APIClient()
    url = url_of(path, directory)

    # when the directory is not published, then published
    settings.CONTINUUM_HSDS_PUBLIC = False
    closed = anonymous.get(url)
    settings.CONTINUUM_HSDS_PUBLIC = True
    public = anonymous.get(url)

    # then
    assert closed.status_code == 401
    assert public.status_code == 200
    assert_matches(response_schema(path), public.json(), f"public GET {path}")


# --- queries -------------------------------------------------------------------------------------


def _more_services(admin, organization, start: int, count: int) -> None:
    for number in range(start, start + count):
        place = location_create(
            actor=admin,
            organization=organization,
            data={"name": f"Place {number}", "latitude": 52.5, "longitude": 13.4},
        )
        service_create(
            actor=admin,
            organization=organization,
            data={"name": f"Service {number}", "stage": "screening"},
            location_ids=[place.pk],
            languages=["en"],
            phones=[{"number": f"+49 40 {number}"}],
        )


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/services", {}),
        ("/services", {"full": "true"}),
        ("/organizations", {"full": "true", "full_service": "true"}),
        ("/service_at_locations", {}),
        ("/service_at_locations", {"full": "true"}),
    ],
)
def test_list_query_count_does_not_grow_with_the_page(admin, client, path, params):
    # given two services at their places, then six
    organization = organization_create(name="Drop-in", kind="harm_reduction", description="-")
    second = organization_create(name="Van", kind="ngo", description="-")
    _more_services(admin, organization, 0, 1)
    _more_services(admin, second, 1, 1)
    query = {"per_page": 100, **params}
    with CaptureQueriesContext(connection) as few:
        assert client.get(BASE + path, query).status_code == 200
    _more_services(admin, organization, 2, 2)
    _more_services(admin, second, 4, 1)
    third = organization_create(name="Clinic", kind="treatment", description="-")
    _more_services(admin, third, 5, 1)

    # when
    with CaptureQueriesContext(connection) as more:
        response = client.get(BASE + path, query)

    # then
    assert response.json()["size"] > 2
    assert len(more) == len(few)
    assert Location.objects.count() == 6
