from __future__ import annotations

import pytest
from django.contrib.auth.models import User

from audit.services import audit_record

from .conftest import member

pytestmark = pytest.mark.django_db

URL = "/api/v1/audit/events/"


@pytest.fixture
def trail():
    """Two organisations' admins, a volunteer, and events of both organisations."""
    admin = member("org_admin")
    other_admin = member("org_admin")
    volunteer = member("volunteer")
    audit_record(actor=admin, action="create", target=("referral.person", "1"), data={"a": 1})
    audit_record(actor=admin, action="update", target=("referral.person", "1"), data={"a": 2})
    audit_record(actor=other_admin, action="create", target=("referral.person", "2"), data={})
    audit_record(actor=None, action="create", target=("referral.person", "3"), data={})
    return admin, other_admin, volunteer


def test_org_admin_reads_only_own_organisations_events(api_client, trail):
    # given
    admin, _, _ = trail
    api_client.force_authenticate(admin)

    # when
    response = api_client.get(URL)

    # then
    assert response.status_code == 200
    body = response.json()
    assert [e["sequence"] for e in body["results"]] == [2, 1]
    assert body["results"][0]["payload"] == {"a": 2}
    assert {e["organization_id"] for e in body["results"]} == {
        str(admin.membership.organization_id)
    }


def test_filters(api_client, trail):
    # given
    admin, _, _ = trail
    api_client.force_authenticate(admin)

    # when
    by_action = api_client.get(URL, {"action": "update"}).json()["results"]
    by_target = api_client.get(URL, {"target": "referral.person:1"}).json()["results"]
    by_actor = api_client.get(URL, {"actor": admin.pk}).json()["results"]
    other_target = api_client.get(URL, {"target": "referral.person:2"}).json()["results"]

    # then
    assert [e["sequence"] for e in by_action] == [2]
    assert [e["sequence"] for e in by_target] == [2, 1]
    assert [e["sequence"] for e in by_actor] == [2, 1]
    assert other_target == []


def test_superuser_reads_everything(api_client, trail):
    # given
    root = User.objects.create_superuser(username="root", password=None)
    api_client.force_authenticate(root)

    # when
    response = api_client.get(URL, {"target": "referral.person:3"})

    # then
    assert response.status_code == 200
    assert [e["sequence"] for e in response.json()["results"]] == [4]


@pytest.mark.parametrize("who", ["volunteer", "plain"])
def test_everyone_else_gets_404(api_client, trail, who):
    # given
    user = trail[2] if who == "volunteer" else User.objects.create_user(username="plain")
    api_client.force_authenticate(user)

    # when
    response = api_client.get(URL)

    # then
    assert response.status_code == 404


def test_anonymous_is_refused(api_client):
    assert api_client.get(URL).status_code in {401, 403}


@pytest.mark.parametrize(
    ("param", "value"),
    [("target", "person-1"), ("target", "referral.person:"), ("action", "tickle"), ("actor", "x")],
)
def test_bad_filters_are_400_naming_the_parameter(api_client, trail, param, value):
    # given
    api_client.force_authenticate(trail[0])

    # when
    response = api_client.get(URL, {param: value})

    # then
    assert response.status_code == 400
    assert param in response.json()["errors"]


def test_query_count_does_not_grow_with_the_page(api_client, trail, django_assert_max_num_queries):
    # given
    admin = trail[0]
    for number in range(20):
        audit_record(actor=admin, action="read", target=("referral.person", number), data={})
    api_client.force_authenticate(admin)

    # when / then
    with django_assert_max_num_queries(4):
        response = api_client.get(URL)
    assert len(response.json()["results"]) == 22
