from __future__ import annotations

import datetime
import uuid

import pytest
from django.contrib.auth.models import Group, User
from django.db import IntegrityError, transaction

from audit.crypto import decrypt_payload
from audit.models import GENESIS_HASH, AuditAction, AuditChainHead, AuditCheckpoint, AuditEvent
from audit.selectors import audit_event_payload
from audit.services import audit_read, audit_record, checkpoint_create
from audit.verification import verify_chain

from .conftest import member, record_events

pytestmark = pytest.mark.django_db


def test_audit_record_chains_and_encrypts():
    # given
    user = User.objects.create_user(username="ana")
    group = Group.objects.create(name="outreach")
    when = datetime.date(2025, 3, 1)

    # when
    first = audit_record(
        actor=user, action=AuditAction.CREATE, target=group, data={"name": "outreach"}
    )
    second = audit_record(
        actor=None,
        action="update",
        target=("referral.person", uuid.UUID(int=7)),
        data={"born": when, "id": uuid.UUID(int=7)},
        organization_id=uuid.UUID(int=1),
    )

    # then
    assert (first.sequence, second.sequence) == (1, 2)
    assert first.prev_hash == GENESIS_HASH and second.prev_hash == first.hash
    assert (first.actor_id, first.actor_username) == (user.pk, "ana")
    assert (first.target_label, first.target_id) == ("auth.group", str(group.pk))
    assert second.target_id == str(uuid.UUID(int=7))
    assert second.organization_id == str(uuid.UUID(int=1))
    assert b"outreach" not in bytes(first.ciphertext)
    stored = AuditEvent.objects.get(sequence=2)
    assert audit_event_payload(stored) == {"born": "2025-03-01", "id": str(uuid.UUID(int=7))}
    assert AuditChainHead.objects.get().last_sequence == 2
    assert verify_chain().ok


def test_rolled_back_caller_leaves_no_event_and_no_gap():
    # given
    record_events(1)

    # when
    with pytest.raises(IntegrityError), transaction.atomic():
        audit_record(actor=None, action="create", target=None, data={})
        User.objects.create(username="dup")
        User.objects.create(username="dup")
    after = audit_record(actor=None, action="create", target=None, data={})

    # then
    assert after.sequence == 2
    assert verify_chain().ok


def test_organization_comes_from_the_actors_membership():
    # given
    admin = member("org_admin")

    # when
    event = audit_record(actor=admin, action="update", target=None, data={})

    # then
    assert event.organization_id == str(admin.membership.organization_id)


def test_actor_without_membership_has_no_organization():
    # given
    user = User.objects.create_user(username="lone")

    # when
    event = audit_record(actor=user, action="update", target=None, data={})

    # then
    assert event.organization_id is None


def test_unknown_action_is_refused():
    with pytest.raises(ValueError):
        audit_record(actor=None, action="tickle", target=None, data={})


def test_audit_read_records_field_names_only():
    # given
    reader = User.objects.create_user(username="reader")

    # when
    event = audit_read(actor=reader, target=("referral.person", "9"), fields=["name", "dob"])

    # then
    assert event.action == AuditAction.READ
    assert audit_event_payload(event) == {"fields": ["dob", "name"]}


def test_payload_is_bound_to_its_event():
    # given
    event = record_events(1)[0]

    # when / then: the ciphertext does not decrypt as another event's
    with pytest.raises(Exception, match="authenticate"):
        decrypt_payload(
            key_id=event.key_id,
            nonce=event.nonce,
            ciphertext=event.ciphertext,
            time=event.time,
            target_label="referral.person",
            target_id="2",
        )


def test_lost_head_row_resumes_from_the_newest_event():
    # given
    record_events(3)
    AuditChainHead.objects.all().delete()

    # when
    event = audit_record(actor=None, action="create", target=None, data={})

    # then
    assert event.sequence == 4
    assert verify_chain().ok


def test_checkpoint_signs_the_head_once():
    # given
    record_events(3)

    # when
    first = checkpoint_create()
    again = checkpoint_create()

    # then
    assert first is not None and first.sequence == 3
    assert first.hash == AuditEvent.objects.get(sequence=3).hash
    assert again is None
    assert AuditCheckpoint.objects.count() == 1


def test_checkpoint_on_empty_chain_is_nothing():
    assert checkpoint_create() is None


@pytest.mark.django_db(transaction=True)
def test_every_thousandth_event_queues_a_checkpoint():
    # given / when (Celery is eager in tests: the task runs on commit)
    record_events(1000)

    # then
    assert list(AuditCheckpoint.objects.values_list("sequence", flat=True)) == [1000]
    assert verify_chain().ok


def test_whole_second_timestamps_chain_and_verify():
    # given: a clock on a whole second (SQLite stores it without microseconds)
    import time_machine

    with time_machine.travel(datetime.datetime(2025, 1, 1, 12, 0, tzinfo=datetime.UTC), tick=False):
        # when
        event = audit_record(actor=None, action="create", target=None, data={"at": "noon"})

    # then
    assert event.time.microsecond == 0
    assert verify_chain().ok
    assert audit_event_payload(AuditEvent.objects.get()) == {"at": "noon"}
