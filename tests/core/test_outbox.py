"""The outbox on its own: a message exists only if its write committed, runs once however
often it is delivered, and a failing handler is retried after a back-off, never lost."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone

from core import outbox
from core.models import OutboxMessage

pytestmark = pytest.mark.django_db

calls: list[tuple] = []
failures_left: list[int] = []


@outbox.handler("tests.core.record")
def record(*args, **kwargs):
    if failures_left and failures_left[0] > 0:
        failures_left[0] -= 1
        raise ConnectionRefusedError("mail server down")
    calls.append((args, kwargs))


@pytest.fixture(autouse=True)
def _clean():
    calls.clear()
    failures_left.clear()
    yield
    calls.clear()
    failures_left.clear()


def test_a_committed_write_sends_its_message_once_after_commit(
    django_capture_on_commit_callbacks,
):
    # given / when
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        message = outbox.outbox_send(handler="tests.core.record", args=[7], kwargs={"a": 1})
        assert calls == []  # nothing leaves inside the transaction
    # then (eager mode: the relay delivers inline)
    assert calls == [((7,), {"a": 1})]
    message.refresh_from_db()
    assert message.delivered_at is not None and message.relayed_at is not None
    assert message.attempts == 1
    # a second delivery of the same id (a redelivered task, a sweep) is a no-op
    assert outbox.outbox_deliver(message.pk) is False
    assert outbox.outbox_relay_due(now=timezone.now() + timedelta(days=1)) == 0
    assert len(calls) == 1


def test_a_rolled_back_write_leaves_no_message(django_capture_on_commit_callbacks):
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        outbox.outbox_send(handler="tests.core.record", args=[1])
        raise RuntimeError("the write failed")
    assert callbacks == []
    assert not OutboxMessage.objects.exists()
    assert calls == []


def test_a_failing_handler_is_retried_after_a_back_off_until_it_works(
    django_capture_on_commit_callbacks,
):
    # given a handler that fails twice (the mail server is down)
    failures_left.append(2)
    with django_capture_on_commit_callbacks(execute=True):
        message = outbox.outbox_send(handler="tests.core.record", args=[3])
    message.refresh_from_db()
    assert (message.attempts, message.delivered_at) == (1, None)
    assert "mail server down" in message.last_error
    first_due = message.available_at
    # not due before its back-off
    assert outbox.outbox_relay_due(now=first_due - timedelta(seconds=1)) == 0
    # when the sweep runs after the back-off: fails again, waits longer
    assert outbox.outbox_relay_due(now=first_due) == 1
    message.refresh_from_db()
    assert message.attempts == 2 and message.delivered_at is None
    assert message.available_at - timezone.now() > timedelta(seconds=15)
    # then the third try works, once
    assert outbox.outbox_relay_due(now=message.available_at) == 1
    message.refresh_from_db()
    assert message.delivered_at is not None and message.last_error == ""
    assert calls == [((3,), {})]


def test_an_unknown_handler_is_kept_and_retried_not_dropped(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        message = outbox.outbox_send(handler="tests.core.nobody")
    message.refresh_from_db()
    assert message.delivered_at is None and message.attempts == 1
    assert "no outbox handler" in message.last_error


def test_a_message_never_relayed_is_picked_up_by_the_sweep(settings):
    # given a message whose after-commit relay never ran (the process died at commit)
    with transaction.atomic():
        message = outbox.outbox_send(handler="tests.core.record", args=[9])
    message.refresh_from_db()
    assert message.relayed_at is None
    # when / then: not before the redelivery time, then once
    assert outbox.outbox_relay_due(now=message.created_at) == 0
    due = message.created_at + timedelta(seconds=settings.CONTINUUM_OUTBOX_REDELIVER_SECONDS)
    assert outbox.outbox_relay_due(now=due) == 1
    assert calls == [((9,), {})]


def test_the_purge_deletes_only_old_delivered_messages(settings):
    now = timezone.now()
    old = now - timedelta(days=settings.CONTINUUM_OUTBOX_RETENTION_DAYS + 1)
    fields = {"handler": "tests.core.record", "created_at": old, "available_at": old}
    delivered = OutboxMessage.objects.create(**fields, delivered_at=old)
    pending = OutboxMessage.objects.create(**fields)
    recent = OutboxMessage.objects.create(**fields, delivered_at=now)
    assert outbox.outbox_purge(now=now) == 1
    remaining = set(OutboxMessage.objects.values_list("pk", flat=True))
    assert remaining == {pending.pk, recent.pk}
    assert delivered.pk not in remaining


def test_a_name_registers_one_handler_only():
    with pytest.raises(ValueError, match="already registered"):
        outbox.handler("tests.core.record")(lambda: None)


def test_the_relay_command_sends_what_is_due(django_capture_on_commit_callbacks, time_machine):
    # given a message whose first try failed (tasks inline, the mail server was down)
    failures_left.append(1)
    with django_capture_on_commit_callbacks(execute=True):
        message = outbox.outbox_send(handler="tests.core.record", args=[5])
    message.refresh_from_db()
    assert message.delivered_at is None
    # when an operator runs the command after the back-off
    time_machine.move_to(message.available_at, tick=False)
    out = StringIO()
    call_command("outbox_relay", stdout=out)
    # then it went out once
    message.refresh_from_db()
    assert message.delivered_at is not None
    assert calls == [((5,), {})]
    assert out.getvalue().strip() == "relayed 1 message(s)"
