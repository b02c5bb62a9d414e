"""A referral belongs to the task force in which it is made; a second task force that shares
one organisation (the clinic) sees none of the first one's referrals, people or counts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from coordination.flows.counts import flow_counts
from coordination.rollup import flows_rollup
from coordination.selectors.board import task_force_referrals
from core.errors import ValidationFailed
from referral.services.referrals import referral_create
from services_directory.models import OrganizationKind, Role, Stage
from tests.factories import (
    OrganizationFactory,
    ServiceFactory,
    TaskForceFactory,
    member,
    person_create_for,
    referral_sent,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def second(world):
    """Task force two: the harbour police and an office of its own, and the first task
    force's clinic; plus a housing service that both task forces have."""
    harbour = OrganizationFactory(name="Harbour police", kind=OrganizationKind.POLICE)
    office = OrganizationFactory(name="Harbour office", kind=OrganizationKind.MUNICIPALITY)
    housing = OrganizationFactory(name="Housing", kind=OrganizationKind.SOCIAL)
    world.task_force.organizations.add(housing)
    task_force = TaskForceFactory(
        name="Harbour", organizations=[harbour, office, world.clinic, housing]
    )
    return {
        "task_force": task_force,
        "officer": member(organization=harbour, role=Role.OFFICER, username="harbour-officer"),
        "coordinator": member(organization=office, role=Role.COORDINATOR, username="harbour-coord"),
        "harbour_service": ServiceFactory(
            organization=harbour, name="Harbour desk", stage=Stage.OUTREACH
        ),
        "housing": ServiceFactory(organization=housing, name="Shelter", stage=Stage.SOCIAL_SUPPORT),
    }


def test_each_coordinator_sees_only_their_own_task_forces_referrals(world, second, client_for):
    # given: a hand-off inside task force one, and one of task force two to the shared clinic
    first_person = person_create_for(world.officer, display_name="First")
    ours = referral_sent(first_person, sender=world.officer, service=world.treatment)
    second_person = person_create_for(second["officer"], display_name="Second")
    theirs = referral_sent(second_person, sender=second["officer"], service=world.treatment)
    assert (ours.task_force, theirs.task_force) == (world.task_force, second["task_force"])

    for coordinator, mine, other, person, hidden in (
        (world.coordinator, ours, theirs, first_person, second_person),
        (second["coordinator"], theirs, ours, second_person, first_person),
    ):
        client = client_for(coordinator)
        # when
        listed = client.get("/api/v1/referrals/").json()
        people = client.get("/api/v1/people/").json()
        # then
        assert [r["id"] for r in listed["results"]] == [str(mine.pk)]
        assert listed["count"] == 1
        for suffix in ("", "events/", "fhir/"):
            assert client.get(f"/api/v1/referrals/{other.pk}/{suffix}").status_code == 404
            assert client.get(f"/api/v1/referrals/{mine.pk}/{suffix}").status_code == 200
        assert [p["id"] for p in people["results"]] == [str(person.pk)]
        assert client.get(f"/api/v1/people/{hidden.pk}/").status_code == 404
    # the clinic, party to both, sees both
    both = client_for(world.provider).get("/api/v1/referrals/").json()
    assert {r["id"] for r in both["results"]} == {str(ours.pk), str(theirs.pk)}


def test_board_and_flows_count_only_the_task_forces_own_referrals(world, second):
    day = datetime(2025, 3, 4, 10, tzinfo=UTC)
    with time_machine.travel(day, tick=False):
        ours = [
            referral_sent(None, sender=world.officer, service=world.treatment) for _ in range(2)
        ]
        theirs = [
            referral_sent(None, sender=second["officer"], service=world.treatment) for _ in range(3)
        ]

    assert set(task_force_referrals(task_force=world.task_force)) == set(ours)
    assert set(task_force_referrals(task_force=second["task_force"])) == set(theirs)

    def sent(task_force, *, use_rollup):
        counts = flow_counts(
            organization_ids=[o.pk for o in task_force.organizations.all()],
            task_force_id=task_force.pk,
            since=day.date(),
            until=day.date() + timedelta(days=1),
            use_rollup=use_rollup,
        )
        return sum(cell.count for key, cell in counts.steps.items() if key[3] == "sent")

    assert (
        sent(world.task_force, use_rollup=False),
        sent(second["task_force"], use_rollup=False),
    ) == (2, 3)
    flows_rollup(since=day.date(), until=day.date() + timedelta(days=1))
    assert (
        sent(world.task_force, use_rollup=True),
        sent(second["task_force"], use_rollup=True),
    ) == (2, 3)


def test_a_referral_to_another_task_forces_service_is_a_400_naming_to_service(
    world, second, client_for
):
    response = client_for(world.officer).post(
        "/api/v1/referrals/",
        {"to_service": str(second["harbour_service"].pk), "pathway": "officer_intervention"},
        format="json",
    )

    assert response.status_code == 400
    assert response.json()["code"] == "not_in_task_force"
    assert "to_service" in response.json()["errors"]


def test_two_shared_task_forces_ask_which(world, second, client_for):
    client = client_for(world.provider)
    body = {"to_service": str(second["housing"].pk), "pathway": "self_referral"}

    unsaid = client.post("/api/v1/referrals/", body, format="json")
    wrong = client.post("/api/v1/referrals/", {**body, "task_force": 999999}, format="json")
    said = client.post(
        "/api/v1/referrals/", {**body, "task_force": second["task_force"].pk}, format="json"
    )

    assert unsaid.status_code == 400 and unsaid.json()["code"] == "task_force_required"
    assert "Harbour" in unsaid.json()["errors"]["task_force"][0]
    assert wrong.status_code == 400 and "task_force" in wrong.json()["errors"]
    assert said.status_code == 201
    assert said.json()["task_force"] == second["task_force"].pk


def test_a_forward_stays_in_its_parents_task_force(world, second):
    from referral.services.referrals import referral_transition

    parent = referral_sent(None, sender=second["officer"], service=world.treatment)
    referral_transition(referral=parent, actor=world.provider, to="accepted")
    referral_transition(
        referral=parent, actor=world.provider, to="forwarded", forward_to=second["housing"]
    )

    child = parent.children.get()
    assert child.task_force == second["task_force"]


def test_the_service_refuses_without_a_shared_task_force(world, second):
    with pytest.raises(ValidationFailed) as refused:
        referral_create(sender=world.outsider, service=world.treatment, pathway="self_referral")
    assert "to_service" in refused.value.errors


def test_the_referral_form_asks_which_task_force_when_there_are_two(world, second, client):
    import uuid

    client.force_login(world.provider)
    page = client.get("/referrals/new/").content.decode()
    assert '<select class="govuk-select" id="n-task-force" name="task_force">' in page
    body = {
        "to_service": str(second["housing"].pk),
        "pathway": "self_referral",
        "urgency": "routine",
        "client_uuid": str(uuid.uuid4()),
    }

    unsaid = client.post("/referrals/new/", body)
    said = client.post(
        "/referrals/new/",
        {**body, "client_uuid": str(uuid.uuid4()), "task_force": second["task_force"].pk},
    )

    assert unsaid.status_code == 400
    assert "One of: " in unsaid.content.decode() and "Harbour" in unsaid.content.decode()
    assert said.status_code == 302
    assert (
        world.provider.membership.organization.referrals_sent.get().task_force
        == (second["task_force"])
    )
