"""The waiting list: accepted -> waitlisted -> engaged (waitlisted -> disengaged | withdrawn),
with the expected start on the move; what the sender sees; the directory's current wait;
the board's long-wait rule; FHIR's Task on-hold."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine

from coordination.selectors.board import board_get
from referral.fhir import mapping
from referral.models import ReferralEvent
from referral.services.referrals import referral_transition
from tests.factories import ServiceFactory, referral_sent

NOW = datetime(2025, 6, 2, 9, 0, tzinfo=UTC)
START = date(2025, 6, 20)


def _transition_url(referral_id) -> str:
    return f"/api/v1/referrals/{referral_id}/transition/"


@pytest.fixture
def accepted(world):
    with time_machine.travel(NOW, tick=False):
        referral = referral_sent(sender=world.officer, service=world.treatment)
        referral_transition(referral=referral, actor=world.provider, to="accepted")
    return referral


@time_machine.travel(NOW, tick=False)
def test_waitlisted_then_engaged_and_the_sender_sees_the_expected_start(
    client, client_for, world, accepted
):
    # given an accepted referral
    provider, officer = client_for(world.provider), client_for(world.officer)
    # when the provider puts the person on the waiting list, number 3
    moved = provider.post(
        _transition_url(accepted.pk),
        {"to": "waitlisted", "expected_start": START.isoformat(), "waitlist_position": 3},
        format="json",
    )
    # then the sender sees it waiting, expected from the date, in the API and on the page
    assert moved.status_code == 200, moved.content
    seen = officer.get(f"/api/v1/referrals/{accepted.pk}/").json()
    assert (seen["status"], seen["expected_start"], seen["waitlist_position"]) == (
        "waitlisted",
        "2025-06-20",
        3,
    )
    assert (
        "engaged" in provider.get(f"/api/v1/referrals/{accepted.pk}/").json()["allowed_transitions"]
    )
    client.force_login(world.officer)
    page = client.get(f"/referrals/{accepted.pk}/").content.decode()
    assert "Waiting, expected from 20 Jun 2025" in page
    messages = [n["message"] for n in officer.get("/api/v1/notifications/").json()["results"]]
    assert "Your referral to Treatment is waiting for a place, expected from 20 Jun 2025." in (
        messages
    )
    # and the directory shows the service's current wait: 18 days, one person
    world.treatment.refresh_from_db()
    assert (world.treatment.waiting_count, world.treatment.current_wait_days) == (1, 18)
    card = next(
        s for s in officer.get("/api/v1/services/").json()["results"] if s["name"] == "Treatment"
    )
    assert (card["waiting_count"], card["current_wait_days"]) == (1, 18)
    assert "About 18 days for a place" in client.get("/directory/").content.decode()

    # when the place opens
    engaged = provider.post(_transition_url(accepted.pk), {"to": "engaged"}, format="json")
    # then it is engaged, the wait is off the list and the step kept its time waiting
    assert engaged.status_code == 200
    assert engaged.json()["expected_start"] is None
    world.treatment.refresh_from_db()
    assert (world.treatment.waiting_count, world.treatment.current_wait_days) == (0, None)
    steps = list(
        ReferralEvent.objects.filter(referral=accepted).values_list("to_status", "expected_start")
    )
    assert steps == [("sent", None), ("accepted", None), ("waitlisted", START), ("engaged", None)]


@time_machine.travel(NOW, tick=False)
@pytest.mark.parametrize(
    ("who", "to", "body"),
    [
        ("provider", "disengaged", {"reason_code": "lost_contact"}),
        ("officer", "withdrawn", {"reason_code": "client_declined"}),
    ],
)
def test_waitlisted_can_end_lost_or_withdrawn(client_for, world, accepted, who, to, body):
    referral_transition(
        referral=accepted, actor=world.provider, to="waitlisted", expected_start=START
    )
    client = client_for(getattr(world, who))
    response = client.post(_transition_url(accepted.pk), {"to": to, **body}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["status"] == to


@time_machine.travel(NOW, tick=False)
@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"to": "waitlisted"}, "expected_start"),
        ({"to": "waitlisted", "expected_start": "2025-05-01"}, "expected_start"),
        ({"to": "waitlisted", "expected_start": "2025-06-20", "waitlist_position": 0}, None),
        ({"to": "engaged", "expected_start": "2025-06-20"}, "expected_start"),
    ],
)
def test_a_bad_waiting_list_move_is_a_400_naming_the_field(
    client_for, world, accepted, body, field
):
    response = client_for(world.provider).post(_transition_url(accepted.pk), body, format="json")
    assert response.status_code == 400, response.content
    assert set(response.json()["errors"]) == {field or "waitlist_position"}
    accepted.refresh_from_db()
    assert accepted.status == "accepted"


def test_only_an_accepted_referral_goes_on_the_list_and_only_by_the_receiver(client_for, world):
    with time_machine.travel(NOW, tick=False):
        referral = referral_sent(sender=world.officer, service=world.treatment)
        body = {"to": "waitlisted", "expected_start": START.isoformat()}
        sent = client_for(world.provider).post(_transition_url(referral.pk), body, format="json")
        referral_transition(referral=referral, actor=world.provider, to="accepted")
        by_sender = client_for(world.officer).post(
            _transition_url(referral.pk), body, format="json"
        )
    assert (sent.status_code, by_sender.status_code) == (409, 409)


def test_the_board_flags_a_wait_longer_than_stated_or_14_days(world):
    # given two waiting people: one at a service stating 7 days, one at a service stating none
    stated = ServiceFactory(organization=world.clinic, name="Detox", stated_wait_days=7)
    with time_machine.travel(NOW, tick=False):
        short = referral_sent(sender=world.officer, service=stated)
        long = referral_sent(sender=world.officer, service=world.treatment)
        for referral in (short, long):
            referral_transition(referral=referral, actor=world.provider, to="accepted")
            referral_transition(
                referral=referral, actor=world.provider, to="waitlisted", expected_start=START
            )

    def flagged(at):
        board = board_get(
            user=world.coordinator, task_force_id=world.task_force.pk, rule="long_wait", now=at
        )
        return {item.target_id: item.due_at for item in board.items}

    # then nothing at 6 days; the 7-day service's person after 7 days; both after 14 days
    assert flagged(NOW + timedelta(days=6, hours=23)) == {}
    assert flagged(NOW + timedelta(days=7)) == {str(short.pk): NOW + timedelta(days=7)}
    assert flagged(NOW + timedelta(days=14)) == {
        str(short.pk): NOW + timedelta(days=7),
        str(long.pk): NOW + timedelta(days=14),
    }
    # and an engaged person leaves the board
    with time_machine.travel(NOW + timedelta(days=15), tick=False):
        referral_transition(referral=long, actor=world.provider, to="engaged")
    assert set(flagged(NOW + timedelta(days=15))) == {str(short.pk)}


@time_machine.travel(NOW, tick=False)
def test_fhir_maps_the_waiting_list_to_task_on_hold(client_for, world, accepted):
    referral_transition(
        referral=accepted, actor=world.provider, to="waitlisted", expected_start=START
    )
    assert mapping.TASK_STATUS["waitlisted"] == "on-hold"
    bundle = client_for(world.officer).get(f"/api/v1/referrals/{accepted.pk}/fhir/").json()
    resources = {e["resource"]["resourceType"]: e["resource"] for e in bundle["entry"]}
    assert resources["Task"]["status"] == "on-hold"
    assert resources["ServiceRequest"]["status"] == "active"
