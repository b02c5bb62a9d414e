"""The task-force board: each rule (and its negative case), pseudonymity, who may see it,
and assigning/annotating items (audited)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from audit.models import AuditEvent
from coordination.models import BoardItemState
from referral.models import Contact
from referral.services.referrals import referral_create, referral_transition
from services_directory.models import OrganizationKind, Role, Stage
from tests.factories import (
    OrganizationFactory,
    ServiceFactory,
    TaskForceFactory,
    member,
    person_create_for,
)

NOW = datetime(2025, 6, 20, 12, 0, tzinfo=UTC)
IDENTITY = {"given_name": "Zebulon", "family_name": "Quarrington", "phone": "+4915799999"}


def _at(moment):
    return time_machine.travel(moment, tick=False)


def refer(world, *, at, service=None, person=None, urgency="routine", contact=None, reason=""):
    with _at(at):
        referral, _ = referral_create(
            reason=reason,
            sender=world.officer,
            service=service or world.treatment,
            pathway="officer_intervention",
            person=person,
            urgency=urgency,
            contact=contact,
        )
    return referral


# The coded reason or outcome each closing step needs (``referral.reasons``).
CODED = {
    "declined": {"reason_code": "no_capacity"},
    "withdrawn": {"reason_code": "other"},
    "disengaged": {"reason_code": "lost_contact"},
    "completed": {"outcome": "successful"},
}


def move(referral, *, actor, to, at, reason=""):
    with _at(at):
        return referral_transition(
            referral=referral, actor=actor, to=to, reason=reason, **CODED.get(to, {})
        )


def board(client, user, task_force, *, now=NOW, **params):
    client.force_authenticate(user)
    with _at(now):
        return client.get("/api/v1/board/", {"task_force": task_force.pk, **params})


def items_of(response, rule):
    assert response.status_code == 200, response.content
    return [i for i in response.json()["items"] if i["rule"] == rule]


def ids_of(response, rule):
    return {i["target_id"] for i in items_of(response, rule)}


# --- past SLA -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_past_sla_lists_overdue_and_recently_expired_referrals_only(world, api_client):
    overdue = refer(world, at=NOW - timedelta(hours=49))  # not swept yet
    expired = refer(world, at=NOW - timedelta(days=5))
    move(expired, actor=None, to="expired", at=NOW - timedelta(days=3))
    long_ago = refer(world, at=NOW - timedelta(days=40))
    move(long_ago, actor=None, to="expired", at=NOW - timedelta(days=38))
    in_time = refer(world, at=NOW - timedelta(hours=47))
    answered = refer(world, at=NOW - timedelta(hours=60))
    move(answered, actor=world.provider, to="accepted", at=NOW - timedelta(hours=59))

    response = board(api_client, world.coordinator, world.task_force)

    past = ids_of(response, "past_sla")
    assert past == {str(overdue.pk), str(expired.pk)}
    assert str(in_time.pk) not in past and str(long_ago.pk) not in past
    item = next(i for i in items_of(response, "past_sla") if i["target_id"] == str(overdue.pk))
    assert item["target_type"] == "referral"
    assert item["display_name"] == "Anonymous"
    assert item["links"]["api"] == f"/api/v1/referrals/{overdue.pk}/"
    assert item["referral"]["to_service"]["name"] == "Treatment"
    assert item["referral"]["sender_organization"]["name"] == "Police"
    assert item["state"] is None


# --- near SLA -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_near_sla_is_the_last_quarter_of_the_window_capped_at_12_hours(world, api_client):
    short = ServiceFactory(
        organization=world.clinic, name="Detox", stage=Stage.TREATMENT, referral_sla_hours=8
    )
    near_48 = refer(world, at=NOW - timedelta(hours=36, minutes=1))  # 11h59 left of 48 h
    far_48 = refer(world, at=NOW - timedelta(hours=35, minutes=59))  # 12h01 left
    near_8 = refer(world, service=short, at=NOW - timedelta(hours=6))  # 2 h left of 8 h
    far_8 = refer(world, service=short, at=NOW - timedelta(hours=5, minutes=59))
    near_urgent = refer(world, service=short, urgency="urgent", at=NOW - timedelta(hours=3))
    week = ServiceFactory(
        organization=world.clinic, name="Residential", stage=Stage.TREATMENT, referral_sla_hours=168
    )
    far_week = refer(world, service=week, at=NOW - timedelta(hours=150))  # 18 h left < 42 h

    near = ids_of(board(api_client, world.coordinator, world.task_force), "near_sla")

    assert near == {str(near_48.pk), str(near_8.pk), str(near_urgent.pk)}
    assert not near & {str(far_48.pk), str(far_8.pk), str(far_week.pk)}


# --- declined, no follow-up -----------------------------------------------------------------


@pytest.mark.django_db
def test_a_decline_with_no_follow_up_after_72_hours_is_listed(world, api_client):
    person = person_create_for(world.officer, display_name="Kit")
    dropped = refer(world, person=person, at=NOW - timedelta(days=4))
    move(
        dropped,
        actor=world.provider,
        to="declined",
        reason="No bed zq",
        at=NOW - timedelta(hours=73),
    )

    response = board(api_client, world.coordinator, world.task_force)

    item = items_of(response, "declined_no_follow_up")
    assert [i["target_id"] for i in item] == [str(dropped.pk)]
    assert item[0]["display_name"] == "Kit"
    assert item[0]["links"]["person_api"] == f"/api/v1/people/{person.pk}/"
    # the coded reason, never the receiver's note
    assert item[0]["referral"]["reason_code"] == "no_capacity"
    assert "No bed zq" not in response.content.decode()


@pytest.mark.django_db
def test_a_decline_is_not_listed_within_72_hours_or_after_a_follow_up(world, api_client):
    # declined 71 hours ago: the sender still has time to re-refer
    fresh = refer(world, at=NOW - timedelta(days=3))
    move(fresh, actor=world.provider, to="declined", reason="Full", at=NOW - timedelta(hours=71))
    # declined, and the same person was referred again afterwards
    person = person_create_for(world.officer, display_name="Lu")
    re_referred = refer(world, person=person, at=NOW - timedelta(days=5))
    move(re_referred, actor=world.provider, to="declined", reason="No", at=NOW - timedelta(days=4))
    refer(world, person=person, service=world.recovery, at=NOW - timedelta(days=3))
    # anonymous, declined, and a new referral from the same contact
    contact = Contact.objects.create(
        client_uuid=uuid.uuid4(),
        organization=world.police,
        recorded_by=world.officer,
        occurred_at=NOW - timedelta(days=6),
        pathway="officer_intervention",
        request_fingerprint="x" * 64,
    )
    same_contact = refer(world, contact=contact, at=NOW - timedelta(days=5))
    move(same_contact, actor=world.provider, to="declined", reason="No", at=NOW - timedelta(days=4))
    refer(world, contact=contact, service=world.recovery, at=NOW - timedelta(days=2))
    # anonymous with no follow-up: listed
    lonely = refer(world, at=NOW - timedelta(days=5))
    move(lonely, actor=world.provider, to="declined", reason="No", at=NOW - timedelta(days=4))

    declined = ids_of(
        board(api_client, world.coordinator, world.task_force), "declined_no_follow_up"
    )

    assert declined == {str(lonely.pk)}


# --- stalled --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_person_whose_last_transition_is_14_days_old_and_not_completed_is_stalled(
    world, api_client
):
    stuck = person_create_for(world.officer, display_name="Stuck")
    r = refer(world, person=stuck, at=NOW - timedelta(days=20))
    move(r, actor=world.provider, to="accepted", at=NOW - timedelta(days=15))
    # an earlier completed journey does not hide a later stalled one
    again = person_create_for(world.officer, display_name="Again")
    first = refer(world, person=again, at=NOW - timedelta(days=40))
    move(first, actor=world.provider, to="accepted", at=NOW - timedelta(days=39))
    move(first, actor=world.provider, to="engaged", at=NOW - timedelta(days=38))
    move(first, actor=world.provider, to="completed", at=NOW - timedelta(days=30))
    second = refer(world, person=again, service=world.recovery, at=NOW - timedelta(days=29))
    move(second, actor=world.recovery_worker, to="accepted", at=NOW - timedelta(days=28))
    move(second, actor=world.recovery_worker, to="engaged", at=NOW - timedelta(days=20))
    # anonymous and engaged for three weeks: its own item, targeting the referral
    anonymous = refer(world, at=NOW - timedelta(days=25))
    move(anonymous, actor=world.provider, to="accepted", at=NOW - timedelta(days=22))
    move(anonymous, actor=world.provider, to="engaged", at=NOW - timedelta(days=21))

    response = board(api_client, world.coordinator, world.task_force)

    stalled = {(i["target_type"], i["target_id"]): i for i in items_of(response, "stalled")}
    assert set(stalled) == {
        ("person", str(stuck.pk)),
        ("person", str(again.pk)),
        ("referral", str(anonymous.pk)),
    }
    item = stalled[("person", str(stuck.pk))]
    assert item["display_name"] == "Stuck"
    assert item["status"] == "accepted"
    assert item["links"]["api"] == f"/api/v1/people/{stuck.pk}/"
    assert item["links"]["referral_api"] == f"/api/v1/referrals/{r.pk}/"


@pytest.mark.django_db
def test_recent_moves_and_completed_journeys_are_not_stalled(world, api_client):
    done = person_create_for(world.officer, display_name="Done")
    r = refer(world, person=done, at=NOW - timedelta(days=40))
    move(r, actor=world.provider, to="accepted", at=NOW - timedelta(days=39))
    move(r, actor=world.provider, to="engaged", at=NOW - timedelta(days=35))
    move(r, actor=world.provider, to="completed", at=NOW - timedelta(days=20))
    recent = person_create_for(world.officer, display_name="Recent")
    r2 = refer(world, person=recent, at=NOW - timedelta(days=20))
    move(r2, actor=world.provider, to="accepted", at=NOW - timedelta(days=13))
    # moved on: the person's latest referral is a fresh one
    moved = person_create_for(world.officer, display_name="Moved")
    old = refer(world, person=moved, at=NOW - timedelta(days=30))
    move(old, actor=world.provider, to="accepted", at=NOW - timedelta(days=29))
    refer(world, person=moved, service=world.recovery, at=NOW - timedelta(days=2))

    assert items_of(board(api_client, world.coordinator, world.task_force), "stalled") == []


# --- no capacity ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_services_at_zero_capacity_or_not_accepting_are_listed(world, api_client):
    full = ServiceFactory(
        organization=world.clinic, name="Beds", stage=Stage.TREATMENT, capacity_available=0
    )
    ServiceFactory(
        organization=world.clinic, name="Roomy", stage=Stage.TREATMENT, capacity_available=3
    )
    ServiceFactory(
        organization=world.outsider_org, name="Elsewhere full", stage=Stage.TREATMENT,
        capacity_available=0,
    )  # fmt: skip

    items = items_of(board(api_client, world.coordinator, world.task_force), "no_capacity")

    assert {i["display_name"]: i["status"] for i in items} == {
        "Beds": "no_capacity",
        "Full house": "not_accepting",
    }
    beds = next(i for i in items if i["display_name"] == "Beds")
    assert beds["target_id"] == str(full.pk)
    assert beds["links"]["api"] == f"/api/v1/services/{full.pk}/"
    assert beds["links"]["web"] == f"/admin/services_directory/service/{full.pk}/change/"
    assert beds["service"]["capacity_available"] == 0


# --- pseudonymity, access -------------------------------------------------------------------


@pytest.mark.django_db
def test_the_board_shows_display_names_and_never_identifying_fields(world, api_client):
    person = person_create_for(world.officer, display_name="JD", **IDENTITY)
    r = refer(world, person=person, at=NOW - timedelta(days=3), reason="Zebulon asked for help")

    response = board(api_client, world.coordinator, world.task_force)

    assert ids_of(response, "past_sla") == {str(r.pk)}
    assert items_of(response, "past_sla")[0]["display_name"] == "JD"
    body = response.content.decode()
    for value in IDENTITY.values():
        assert value not in body
    assert "Zebulon" not in body


@pytest.mark.django_db
def test_the_board_is_404_for_everyone_but_the_task_forces_coordinators(world, api_client):
    other_office = OrganizationFactory(name="Other office", kind=OrganizationKind.MUNICIPALITY)
    TaskForceFactory(organizations=[other_office, world.outsider_org])
    other_coordinator = member(organization=other_office, role=Role.COORDINATOR)
    refer(world, at=NOW - timedelta(days=3))

    for user in (world.officer, world.provider, world.outsider, other_coordinator):
        response = board(api_client, user, world.task_force)
        assert response.status_code == 404, user
        assert response.json()["detail"] == "Not found."
    missing = board(api_client, world.coordinator, world.task_force)
    assert missing.status_code == 200
    api_client.force_authenticate(world.coordinator)
    assert api_client.get("/api/v1/board/", {"task_force": 999999}).status_code == 404
    api_client.force_authenticate(None)
    assert api_client.get("/api/v1/board/", {"task_force": world.task_force.pk}).status_code in (
        401,
        403,
    )


@pytest.mark.django_db
def test_the_board_rejects_unknown_parameters(world, api_client):
    response = board(api_client, world.coordinator, world.task_force, colour="red")
    assert response.status_code == 400
    assert "colour" in response.json()["errors"]


@pytest.mark.django_db
def test_the_boards_query_count_does_not_grow_with_its_items(world, api_client):
    def count_queries():
        api_client.force_authenticate(world.coordinator)
        with _at(NOW), CaptureQueriesContext(connection) as queries:
            response = api_client.get("/api/v1/board/", {"task_force": world.task_force.pk})
        assert response.status_code == 200
        return len(queries), len(response.json()["items"])

    for _ in range(2):
        p = person_create_for(world.officer)
        refer(world, person=p, at=NOW - timedelta(days=3))
    count_queries()  # warm the caches every request shares
    few, few_items = count_queries()
    for _ in range(6):
        p = person_create_for(world.officer)
        refer(world, person=p, at=NOW - timedelta(days=3))
        r = refer(world, at=NOW - timedelta(days=20))
        move(r, actor=world.provider, to="accepted", at=NOW - timedelta(days=16))
    many, many_items = count_queries()
    assert many_items > few_items
    assert many == few


# --- assignment and notes -------------------------------------------------------------------


def _second_coordinator(world):
    return member(organization=world.office, role=Role.COORDINATOR, username="coord-2")


@pytest.mark.django_db
def test_a_coordinator_assigns_and_annotates_an_item_audited(world, api_client):
    colleague = _second_coordinator(world)
    overdue = refer(world, at=NOW - timedelta(days=3))
    api_client.force_authenticate(world.coordinator)
    body = {
        "task_force": world.task_force.pk,
        "rule": "past_sla",
        "target_type": "referral",
        "target_id": str(overdue.pk),
        "assigned_to": colleague.pk,
        "note": "Call the clinic on Monday.",
    }

    created = api_client.post("/api/v1/board/items/", body, format="json")
    again = api_client.post("/api/v1/board/items/", body, format="json")

    assert created.status_code == 201, created.content
    assert created.json()["assigned_to"] == {"id": colleague.pk, "username": "coord-2"}
    assert again.status_code == 200
    state = BoardItemState.objects.get()
    assert state.note == "Call the clinic on Monday."
    # the board shows it
    item = items_of(board(api_client, world.coordinator, world.task_force), "past_sla")[0]
    assert item["state"]["assigned_to"]["username"] == "coord-2"
    assert item["state"]["note"] == "Call the clinic on Monday."
    # PATCH by id changes only what is given
    api_client.force_authenticate(world.coordinator)
    patched = api_client.patch(
        f"/api/v1/board/items/{state.pk}/", {"note": "Clinic called back."}, format="json"
    )
    assert patched.status_code == 200
    assert patched.json()["assigned_to"]["id"] == colleague.pk
    assert patched.json()["note"] == "Clinic called back."
    # audited: one create, one update (the identical retry wrote nothing)
    events = AuditEvent.objects.filter(
        target_label="coordination.boarditemstate", target_id=str(state.pk)
    )
    assert [e.action for e in events] == ["create", "update"]
    assert all(e.actor_id == world.coordinator.pk for e in events)


@pytest.mark.django_db
def test_only_a_coordinator_of_the_task_force_can_be_assigned(world, api_client):
    other_office = OrganizationFactory(name="Other office", kind=OrganizationKind.MUNICIPALITY)
    TaskForceFactory(organizations=[other_office])
    other_coordinator = member(organization=other_office, role=Role.COORDINATOR)
    overdue = refer(world, at=NOW - timedelta(days=3))
    api_client.force_authenticate(world.coordinator)
    for assignee in (world.provider, other_coordinator):
        response = api_client.post(
            "/api/v1/board/items/",
            {
                "task_force": world.task_force.pk,
                "rule": "past_sla",
                "target_type": "referral",
                "target_id": str(overdue.pk),
                "assigned_to": assignee.pk,
            },
            format="json",
        )
        assert response.status_code == 400
        assert "assigned_to" in response.json()["errors"]
    assert not BoardItemState.objects.exists()


@pytest.mark.django_db
def test_items_of_other_task_forces_and_foreign_targets_are_refused(world, api_client):
    other_office = OrganizationFactory(name="Other office", kind=OrganizationKind.MUNICIPALITY)
    TaskForceFactory(organizations=[other_office, world.outsider_org])
    other_coordinator = member(organization=other_office, role=Role.COORDINATOR)
    overdue = refer(world, at=NOW - timedelta(days=3))
    body = {
        "task_force": world.task_force.pk,
        "rule": "past_sla",
        "target_type": "referral",
        "target_id": str(overdue.pk),
        "note": "x",
    }
    # a coordinator of another task force: 404
    api_client.force_authenticate(other_coordinator)
    assert api_client.post("/api/v1/board/items/", body, format="json").status_code == 404
    # a target outside the task force, or of the wrong type for the rule: 400
    foreign = ServiceFactory(organization=world.outsider_org, stage=Stage.TREATMENT)
    api_client.force_authenticate(world.coordinator)
    for target in (
        {"rule": "no_capacity", "target_type": "service", "target_id": str(foreign.pk)},
        {"rule": "no_capacity", "target_type": "referral", "target_id": str(overdue.pk)},
        {"rule": "past_sla", "target_type": "referral", "target_id": str(uuid.uuid4())},
    ):
        response = api_client.post("/api/v1/board/items/", {**body, **target}, format="json")
        assert response.status_code == 400, target
    # a state of this task force PATCHed by the other coordinator: 404
    created = api_client.post("/api/v1/board/items/", body, format="json")
    api_client.force_authenticate(other_coordinator)
    response = api_client.patch(
        f"/api/v1/board/items/{created.json()['id']}/", {"note": "mine"}, format="json"
    )
    assert response.status_code == 404


@pytest.mark.django_db
def test_a_resolved_item_leaves_the_board_until_its_target_changes(world, api_client):
    with _at(NOW - timedelta(hours=1)):
        full = ServiceFactory(
            organization=world.clinic, name="Beds", stage=Stage.TREATMENT, capacity_available=0
        )
    api_client.force_authenticate(world.coordinator)
    with _at(NOW):
        response = api_client.post(
            "/api/v1/board/items/",
            {
                "task_force": world.task_force.pk,
                "rule": "no_capacity",
                "target_type": "service",
                "target_id": str(full.pk),
                "resolved": True,
            },
            format="json",
        )
    assert response.status_code == 201
    later = NOW + timedelta(minutes=1)
    assert "Beds" not in {
        i["display_name"]
        for i in items_of(
            board(api_client, world.coordinator, world.task_force, now=later), "no_capacity"
        )
    }
    shown = items_of(
        board(api_client, world.coordinator, world.task_force, now=later, include_resolved="true"),
        "no_capacity",
    )
    assert "Beds" in {i["display_name"] for i in shown}
    # the service changes after the resolution: the item is back
    with _at(NOW + timedelta(hours=1)):
        full.capacity_available = 0
        full.save()
    back = board(api_client, world.coordinator, world.task_force, now=NOW + timedelta(hours=2))
    assert "Beds" in {i["display_name"] for i in items_of(back, "no_capacity")}


def test_services_without_a_stage_are_on_the_coordinators_board(api_client, client, world):
    # given a service of the task force imported without a stage, and one outside it
    imported = ServiceFactory(organization=world.clinic, name="Imported drop-in", stage="")
    ServiceFactory(organization=world.outsider_org, name="Elsewhere, no stage", stage="")

    # when the coordinator reads the board, through the API and on the page
    items = items_of(board(api_client, world.coordinator, world.task_force), "unclassified")
    client.force_login(world.coordinator)
    page = client.get("/board/", {"task_force": world.task_force.pk}).content.decode()

    # then only the task force's service is there, as a service item
    assert [(i["target_type"], i["target_id"], i["status"]) for i in items] == [
        ("service", str(imported.pk), "unclassified")
    ]
    assert "Service without a stage (not offered for referrals)" in page
    assert "Imported drop-in" in page and "Elsewhere, no stage" not in page
