"""The board as a web page (``/board/``): what a coordinator sees, pseudonymous; acting on an
item through its forms (assign, note, resolve, reopen), audited once per change; who may not."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from audit.models import AuditEvent
from coordination.models import BoardItemState
from referral.services.referrals import referral_create
from tests.factories import member, person_create_for

PAGE = "/board/"
ACT = "/board/items/"
IDENTITY = {"given_name": "Zebulon", "family_name": "Quarrington", "phone": "+4915799999"}

pytestmark = pytest.mark.django_db


@pytest.fixture
def overdue(world):
    """A referral of a named person, sent 3 days ago to a service with a 48 h SLA."""
    person = person_create_for(world.officer, display_name="Z.Q.", **IDENTITY)
    referral, _ = referral_create(
        sender=world.officer,
        service=world.treatment,
        pathway="officer_intervention",
        person=person,
    )
    past = timezone.now() - timedelta(days=3)
    type(referral).objects.filter(pk=referral.pk).update(
        created_at=past, status_changed_at=past, sla_due_at=past + timedelta(hours=48)
    )
    return referral


def item_form(world, referral, **fields):
    return {
        "task_force": world.task_force.pk,
        "rule": "past_sla",
        "target_type": "referral",
        "target_id": str(referral.pk),
        **fields,
    }


def test_a_coordinator_sees_the_board_by_display_name_only(client, world, overdue):
    # given
    client.force_login(world.coordinator)
    # when
    response = client.get(PAGE)  # the first task force coordinated is the default
    # then
    assert response.status_code == 200
    html = response.content.decode()
    assert world.task_force.name in html
    assert f'id="item-past_sla-referral-{overdue.pk}"' in html
    assert "Z.Q." in html
    for value in IDENTITY.values():
        assert value not in html
    assert "Full house" in html  # the service that is not accepting referrals
    assert 'href="/board/"' in html  # the navigation offers the board to coordinators


def test_the_board_api_links_a_referral_item_to_its_place_on_the_page(api_client, world, overdue):
    api_client.force_authenticate(world.coordinator)
    body = api_client.get("/api/v1/board/", {"task_force": world.task_force.pk}).json()
    (item,) = [i for i in body["items"] if i["target_id"] == str(overdue.pk)]
    expected = f"/board/?task_force={world.task_force.pk}#item-past_sla-referral-{overdue.pk}"
    assert item["links"]["web"] == expected
    assert item["links"]["board"] == expected


@pytest.mark.parametrize("who", ["provider", "officer", "outsider"])
def test_the_board_is_404_for_everyone_but_its_coordinators(client, world, overdue, who):
    client.force_login(getattr(world, who))
    assert client.get(PAGE).status_code == 404
    assert client.get(PAGE, {"task_force": world.task_force.pk}).status_code == 404
    response = client.post(ACT, item_form(world, overdue, action="resolve"))
    assert response.status_code == 404
    assert not BoardItemState.objects.exists()
    assert 'href="/board/"' not in client.get("/dashboard/").content.decode()


def test_anonymous_users_are_sent_to_sign_in(client, world):
    for response in (client.get(PAGE), client.post(ACT, {})):
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/?next=")


def test_assigning_noting_and_resolving_through_the_forms(client, world, overdue):
    client.force_login(world.coordinator)
    before = AuditEvent.objects.count()
    # when: assign to me
    response = client.post(
        ACT, item_form(world, overdue, action="assign", assigned_to=world.coordinator.pk)
    )
    # then: back to the item
    assert response.status_code == 302
    assert response["Location"] == (
        f"/board/?task_force={world.task_force.pk}#item-past_sla-referral-{overdue.pk}"
    )
    state = BoardItemState.objects.get()
    assert state.assigned_to == world.coordinator
    assert AuditEvent.objects.count() == before + 1
    # a second click on the same button changes nothing and audits nothing
    client.post(ACT, item_form(world, overdue, action="assign", assigned_to=world.coordinator.pk))
    assert AuditEvent.objects.count() == before + 1
    # a note, shown on the page
    client.post(
        ACT, item_form(world, overdue, action="note", note="Called the clinic, back Monday")
    )
    html = client.get(PAGE).content.decode()
    assert "Called the clinic, back Monday" in html
    assert "coord-t (me)" in html
    # resolved: hidden, unless asked for
    client.post(ACT, item_form(world, overdue, action="resolve"))
    state.refresh_from_db()
    assert state.resolved_at is not None and state.note == "Called the clinic, back Monday"
    assert f"item-past_sla-referral-{overdue.pk}" not in client.get(PAGE).content.decode()
    shown = client.get(PAGE, {"include_resolved": "true"}).content.decode()
    assert f"item-past_sla-referral-{overdue.pk}" in shown and "Reopen" in shown
    # and reopened
    client.post(ACT, item_form(world, overdue, action="reopen"))
    state.refresh_from_db()
    assert state.resolved_at is None
    assert AuditEvent.objects.count() == before + 4


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"action": "assign", "assigned_to": "provider"}, "assigned_to"),
        ({"action": "launch"}, "Unknown action"),
        ({"action": "resolve", "rule": "no_such_rule"}, "rule"),
        ({"action": "resolve", "target_id": "not-a-uuid"}, "target_id"),
    ],
)
def test_bad_form_input_is_said_and_changes_nothing(client, world, overdue, fields, message):
    client.force_login(world.coordinator)
    before = AuditEvent.objects.count()
    response = client.post(ACT, item_form(world, overdue, **fields))
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not BoardItemState.objects.exists()
    assert AuditEvent.objects.count() == before


def test_assigning_to_a_member_who_is_not_a_coordinator_is_refused(client, world, overdue):
    client.force_login(world.coordinator)
    response = client.post(
        ACT, item_form(world, overdue, action="assign", assigned_to=world.provider.pk)
    )
    assert response.status_code == 400
    assert "Not a coordinator of this task force." in response.content.decode()
    assert not BoardItemState.objects.exists()


def test_another_task_force_and_an_unknown_rule_are_404(client, world, overdue):
    from tests.factories import OrganizationFactory, TaskForceFactory

    other_office = OrganizationFactory(name="Other office")
    other = TaskForceFactory(organizations=[other_office])
    member(organization=other_office, role="coordinator")
    client.force_login(world.coordinator)
    assert client.get(PAGE, {"task_force": other.pk}).status_code == 404
    assert client.get(PAGE, {"task_force": "x"}).status_code == 404
    assert client.get(PAGE, {"rule": "everything"}).status_code == 404
    assert (
        client.post(
            ACT, {**item_form(world, overdue, action="resolve"), "task_force": other.pk}
        ).status_code
        == 404
    )
