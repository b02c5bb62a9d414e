"""Emergency access (42 CFR Part 2 §2.51): a provider party to a referral opens a person's
identity without consent for its period only; audited with its reason, told to the
recording organisation, on the coordinators' board and the org admins' review list; 404
for anyone else."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from audit.models import AuditAction, AuditEvent
from audit.selectors import audit_event_payload
from coordination.models import BoardRule
from coordination.selectors.board import board_get
from referral.models import EmergencyAccess, Notification
from services_directory.models import Role, TaskForce
from tests.factories import care_network, member, person_create_for, referral_sent

pytestmark = pytest.mark.django_db
REASON = "Unresponsive in the waiting room, suspected opioid overdose."


@pytest.fixture
def net():
    return care_network()


@pytest.fixture
def person(net):
    return person_create_for(net.volunteer, display_name="K.", given_name="Kim", family_name="Ro")


@pytest.fixture
def referral(net, person):
    # no consent: the clinic receives a pseudonymous referral
    return referral_sent(person, sender=net.volunteer, service=net.clinic_service)


def _identity(client, person):
    answer = client.get(f"/api/v1/people/{person.pk}/")
    assert answer.status_code == 200, answer.content
    return answer.json()["identity"]


def _open(client, person, reason=REASON):
    return client.post(f"/api/v1/people/{person.pk}/emergency-access/", {"reason": reason})


def test_opens_identity_for_its_period_only(net, person, referral, client_for):
    # given
    clinic = client_for(net.provider)
    assert _identity(clinic, person) is None
    # when
    start = timezone.now()
    answer = _open(clinic, person)
    # then
    assert answer.status_code == 201, answer.content
    body = answer.json()
    assert body["referral"] == str(referral.pk)
    assert _identity(clinic, person)["given_name"] == "Kim"
    with time_machine.travel(start + timedelta(minutes=59)):
        assert _identity(clinic, person)["given_name"] == "Kim"
    with time_machine.travel(start + timedelta(minutes=61)):
        assert _identity(clinic, person) is None
    # only the provider who opened it, not their colleagues
    colleague = member(organization=net.clinic, role=Role.PROVIDER)
    assert _identity(client_for(colleague), person) is None


def test_is_audited_with_who_when_and_the_reason(net, person, referral, client_for):
    _open(client_for(net.provider), person)
    event = AuditEvent.objects.get(action=AuditAction.EMERGENCY_ACCESS)
    assert event.actor_id == net.provider.pk
    assert event.target_id == str(person.pk)
    payload = audit_event_payload(event)
    assert payload["reason"] == REASON
    assert payload["referral"] == str(referral.pk)
    access = EmergencyAccess.objects.get()
    assert REASON.encode() not in bytes(access.reason_enc)


def test_tells_the_recording_organisation_without_the_person_or_the_reason(
    net, person, referral, client_for
):
    _open(client_for(net.provider), person)
    told = Notification.objects.get(organization=net.outreach, event__isnull=True)
    assert "Emergency access" in told.message and net.clinic.name in told.message
    assert "K." not in told.message and "Kim" not in told.message and "overdose" not in told.message
    # queued in the outbox with the write, as every referral notification
    from core.models import OutboxMessage
    from referral.tasks import NOTIFICATION_SEND

    queued = [m.args for m in OutboxMessage.objects.filter(handler=NOTIFICATION_SEND)]
    assert [told.pk] in queued


def test_appears_on_the_coordinators_board(net, person, referral, client_for):
    _open(client_for(net.provider), person)
    task_force = TaskForce.objects.get()
    board = board_get(
        user=net.coordinator, task_force_id=task_force.pk, rule=BoardRule.EMERGENCY_ACCESS
    )
    assert [(i.target_id, i.display_name) for i in board.items] == [(str(referral.pk), "K.")]
    answer = client_for(net.coordinator).get(f"/api/v1/board/?task_force={task_force.pk}")
    assert answer.status_code == 200
    assert any(i["rule"] == "emergency_access" for i in answer.json()["items"])


def test_is_on_the_org_admins_review_list(net, person, referral, client_for):
    _open(client_for(net.provider), person)
    clinic_admin = member(organization=net.clinic, role=Role.ORG_ADMIN)
    outreach_admin = member(organization=net.outreach, role=Role.ORG_ADMIN)
    other_admin = member(organization=net.elsewhere, role=Role.ORG_ADMIN)
    for admin in (clinic_admin, outreach_admin):
        rows = client_for(admin).get("/api/v1/emergency-accesses/").json()["results"]
        assert [(r["username"], r["reason"], r["person_display_name"]) for r in rows] == [
            (net.provider.username, REASON, "K.")
        ]
    assert client_for(other_admin).get("/api/v1/emergency-accesses/").json()["results"] == []
    assert client_for(net.provider).get("/api/v1/emergency-accesses/").json()["results"] == []


@pytest.mark.parametrize("who", ["stranger", "officer", "coordinator", "volunteer_of_clinic"])
def test_is_404_for_anyone_not_a_provider_party_to_a_referral(
    net, person, referral, client_for, who
):
    user = (
        member(organization=net.clinic, role=Role.VOLUNTEER)
        if who == "volunteer_of_clinic"
        else getattr(net, who)
    )
    answer = _open(client_for(user), person)
    assert answer.status_code == 404
    assert answer.json()["code"] == "not_found"
    assert not EmergencyAccess.objects.exists()
    assert not AuditEvent.objects.filter(action=AuditAction.EMERGENCY_ACCESS).exists()


def test_a_reason_is_required(net, person, referral, client_for):
    answer = _open(client_for(net.provider), person, reason="  ")
    assert answer.status_code == 400
    assert "reason" in answer.json()["errors"]
    assert not EmergencyAccess.objects.exists()


def test_the_referral_page_has_the_button(net, person, referral, client):
    client.force_login(net.provider)
    page = client.get(f"/referrals/{referral.pk}/")
    assert b"Open emergency access" in page.content
    answer = client.post(f"/referrals/{referral.pk}/emergency-access/", {"reason": REASON})
    assert answer.status_code == 302
    assert EmergencyAccess.objects.filter(user=net.provider, person=person).exists()
    page = client.get(f"/referrals/{referral.pk}/")
    assert b"Open emergency access" not in page.content
    assert b"Emergency access open until" in page.content
    # the sender recorded the person: no button for them
    client.force_login(net.volunteer)
    assert b"Open emergency access" not in client.get(f"/referrals/{referral.pk}/").content
