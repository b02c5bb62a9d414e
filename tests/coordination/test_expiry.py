"""SLA expiry and consent expiry: the right moment (urgent, across DST), once only."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.db import connection

from audit.crypto import decrypt_payload
from audit.models import AuditEvent
from coordination import expiry, tasks
from referral.models import Consent, Notification, Referral, ReferralEvent
from referral.services.consents import consent_revoke
from referral.services.referrals import referral_create, referral_transition
from tests.factories import consent_create_for, person_create_for

BERLIN = ZoneInfo("Europe/Berlin")


@pytest.fixture(autouse=True)
def _mail(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


def _refer(world, *, urgency="routine", service=None):
    referral, _ = referral_create(
        sender=world.officer,
        service=service or world.treatment,
        pathway="officer_intervention",
        urgency=urgency,
    )
    return referral


def _sweep_at(moment: datetime) -> int:
    with time_machine.travel(moment, tick=False):
        return tasks.referrals_expire()


def _status(referral) -> str:
    return Referral.objects.values_list("status", flat=True).get(pk=referral.pk)


@pytest.mark.django_db
def test_a_routine_referral_expires_when_its_sla_ends_not_a_second_before(world):
    # given a referral to a 48 h service, made at a frozen moment
    start = datetime(2025, 6, 2, 9, 0, tzinfo=UTC)
    with time_machine.travel(start, tick=False):
        referral = _refer(world)
    assert referral.sla_due_at == start + timedelta(hours=48)
    # when the sweep runs one second early, then on time
    assert _sweep_at(start + timedelta(hours=48, seconds=-1)) == 0
    assert _status(referral) == "sent"
    assert _sweep_at(start + timedelta(hours=48)) == 1
    # then it is expired by the system, with one event
    assert _status(referral) == "expired"
    event = ReferralEvent.objects.get(referral=referral, to_status="expired")
    assert event.actor_id is None
    assert event.organization_id is None
    assert event.from_status == "sent"
    assert event.created_at == start + timedelta(hours=48)


@pytest.mark.django_db
def test_the_sender_and_the_task_force_coordinators_are_told_once(
    world, django_capture_on_commit_callbacks
):
    # given
    world.officer.email = "officer@example.invalid"
    world.officer.save()
    start = datetime(2025, 6, 2, 9, 0, tzinfo=UTC)
    with time_machine.travel(start, tick=False):
        referral = _refer(world)
    mail.outbox.clear()
    # when (the emails leave on commit)
    with django_capture_on_commit_callbacks(execute=True):
        _sweep_at(start + timedelta(hours=49))
    # then the sender's and the coordinators' organisations each have one notification
    event = ReferralEvent.objects.get(referral=referral, to_status="expired")
    notified = Notification.objects.filter(event=event)
    assert sorted(n.organization.name for n in notified) == ["Police", "Task force office"]
    assert all(n.emailed_at is not None for n in notified)
    to_coordinator = notified.get(organization=world.office)
    assert "expired unanswered" in to_coordinator.message
    assert world.coordinator.email in {a for m in mail.outbox for a in m.to}
    assert ["officer@example.invalid"] in [m.to for m in mail.outbox]
    # and the outsider's organisation (not in the task force) is not told
    assert not notified.filter(organization=world.outsider_org).exists()


@pytest.mark.django_db
def test_an_urgent_referral_has_half_the_sla(world):
    start = datetime(2025, 6, 2, 9, 0, tzinfo=UTC)
    with time_machine.travel(start, tick=False):
        urgent = _refer(world, urgency="urgent")
        routine = _refer(world)
    assert _sweep_at(start + timedelta(hours=24, seconds=-1)) == 0
    assert _sweep_at(start + timedelta(hours=24)) == 1
    assert (_status(urgent), _status(routine)) == ("expired", "sent")


@pytest.mark.parametrize(
    ("made_local", "early_local", "due_local"),
    [
        # Spring forward (30 March 2025, 02:00 -> 03:00): 48 real hours end at 13:00 local,
        # one wall-clock hour later than "the same time two days on".
        ((2025, 3, 29, 12, 0), (2025, 3, 31, 12, 59), (2025, 3, 31, 13, 0)),
        # Fall back (26 October 2025, 03:00 -> 02:00): they end at 11:00 local, one hour
        # earlier on the wall clock.
        ((2025, 10, 25, 12, 0), (2025, 10, 27, 10, 59), (2025, 10, 27, 11, 0)),
    ],
)
@pytest.mark.django_db
def test_a_48_hour_sla_across_a_dst_change_ends_48_real_hours_later(
    world, made_local, early_local, due_local
):
    # given a referral made in the task force's zone two days before a DST change
    assert world.task_force.time_zone == "Europe/Berlin"
    made = datetime(*made_local, tzinfo=BERLIN)
    with time_machine.travel(made, tick=False):
        referral = _refer(world)
    due = datetime(*due_local, tzinfo=BERLIN)
    assert due - made != timedelta(hours=48)  # wall-clock arithmetic would be off by 1 h
    assert due.astimezone(UTC) - made.astimezone(UTC) == timedelta(hours=48)
    # when / then
    assert _sweep_at(datetime(*early_local, tzinfo=BERLIN)) == 0
    assert _status(referral) == "sent"
    assert _sweep_at(due) == 1
    assert _status(referral) == "expired"


@pytest.mark.django_db
def test_a_referral_answered_in_time_never_expires(world):
    start = datetime(2025, 6, 2, 9, 0, tzinfo=UTC)
    with time_machine.travel(start, tick=False):
        referral = _refer(world)
    with time_machine.travel(start + timedelta(hours=1), tick=False):
        referral_transition(referral=referral, actor=world.provider, to="accepted")
    assert _sweep_at(start + timedelta(days=30)) == 0
    assert _status(referral) == "accepted"


@pytest.mark.django_db
def test_running_the_sweep_twice_expires_and_notifies_once(world):
    start = datetime(2025, 6, 2, 9, 0, tzinfo=UTC)
    with time_machine.travel(start, tick=False):
        referrals = [_refer(world) for _ in range(3)]
    later = start + timedelta(hours=50)
    assert _sweep_at(later) == 3
    assert _sweep_at(later) == 0
    assert _sweep_at(later + timedelta(minutes=5)) == 0
    for referral in referrals:
        assert ReferralEvent.objects.filter(referral=referral, to_status="expired").count() == 1
        assert (
            Notification.objects.filter(referral=referral, event__to_status="expired").count() == 2
        )


@pytest.mark.django_db
def test_expiring_an_already_expired_referral_does_nothing(world):
    start = datetime(2025, 6, 2, 9, 0, tzinfo=UTC)
    with time_machine.travel(start, tick=False):
        referral = _refer(world)
    with time_machine.travel(start + timedelta(hours=49), tick=False):
        assert expiry.referral_expire(referral_id=referral.pk) is True
        # a second runner that selected the id before the first committed
        assert expiry.referral_expire(referral_id=referral.pk) is False
    assert Notification.objects.filter(referral=referral, event__to_status="expired").count() == 2


@pytest.mark.django_db(transaction=True)
def test_concurrent_sweeps_expire_each_referral_once(world, postgres_only):
    # given several referrals past their SLA
    referrals = [_refer(world) for _ in range(12)]
    Referral.objects.filter(pk__in=[r.pk for r in referrals]).update(
        sla_due_at=datetime(2025, 1, 1, tzinfo=UTC)
    )
    barrier = threading.Barrier(3)
    results: list[int] = []
    errors: list[BaseException] = []

    def sweep():
        try:
            barrier.wait(timeout=10)
            results.append(expiry.referrals_expire())
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    # when three workers sweep at once
    threads = [threading.Thread(target=sweep) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    # then each referral was expired and announced exactly once
    assert errors == []
    assert sum(results) == len(referrals)
    for referral in referrals:
        assert _status(referral) == "expired"
        assert ReferralEvent.objects.filter(referral=referral, to_status="expired").count() == 1
        assert (
            Notification.objects.filter(referral=referral, event__to_status="expired").count() == 2
        )


def _audit_payload(event: AuditEvent) -> dict:
    return decrypt_payload(
        key_id=event.key_id,
        nonce=bytes(event.nonce),
        ciphertext=bytes(event.ciphertext),
        time=event.time,
        target_label=event.target_label,
        target_id=event.target_id,
    )


@pytest.mark.django_db
def test_consents_past_their_end_are_marked_expired_and_audited_once(world):
    # given an ending consent, an open-ended one and a revoked one
    person = person_create_for(world.officer, given_name="Ana")
    start = datetime(2025, 6, 2, 9, 0, tzinfo=UTC)
    with time_machine.travel(start, tick=False):
        ending = consent_create_for(
            world.officer, person, recipients=[world.clinic], expires_at=start + timedelta(days=7)
        )
        open_ended = consent_create_for(world.officer, person, recipients=[world.clinic])
        revoked = consent_revoke(
            actor=world.officer,
            consent=consent_create_for(
                world.officer,
                person,
                recipients=[world.clinic],
                expires_at=start + timedelta(days=1),
            ),
        )
    # when the sweep runs before and after the end, and again
    with time_machine.travel(start + timedelta(days=7, seconds=-1), tick=False):
        assert tasks.consents_expire() == 0
    with time_machine.travel(start + timedelta(days=7, minutes=3), tick=False):
        assert tasks.consents_expire() == 1
        assert tasks.consents_expire() == 0
    # then only the ending consent is expired, at the moment it lapsed
    ending.refresh_from_db()
    assert ending.expired_at == start + timedelta(days=7)
    assert Consent.objects.get(pk=open_ended.pk).expired_at is None
    assert Consent.objects.get(pk=revoked.pk).expired_at is None
    events = AuditEvent.objects.filter(target_label="referral.consent", target_id=str(ending.pk))
    assert [e.action for e in events] == ["consent_grant", "consent_expire"]
    assert [e.actor_id for e in events] == [world.officer.pk, None]  # expired by the system
    payload = _audit_payload(events[1])
    assert payload["expired"] is True
    assert "Ana" not in str(payload)
