from __future__ import annotations

import json
from io import StringIO

import pytest
from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.models import User
from django.core.management import call_command

from audit.models import AuditAction, AuditCheckpoint, AuditEvent
from audit.selectors import audit_event_payload
from audit.tasks import checkpoint_audit

from .conftest import record_events

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery-42"


def test_login_and_logout_are_audited(client):
    # given
    user = User.objects.create_user(username="ana", password=PASSWORD)

    # when
    assert client.login(username="ana", password=PASSWORD)
    client.logout()

    # then
    login, logout = AuditEvent.objects.order_by("sequence")
    assert (login.action, login.actor_id, login.target_id) == ("login", user.pk, str(user.pk))
    assert (logout.action, logout.actor_username) == ("logout", "ana")


def test_failed_login_keeps_the_username_not_the_password():
    # given
    User.objects.create_user(username="ana", password=PASSWORD)

    # when
    assert authenticate(username="ana", password="wrong-guess-123") is None

    # then
    event = AuditEvent.objects.get()
    assert event.action == AuditAction.LOGIN_FAILED and event.actor_id is None
    payload = audit_event_payload(event)
    assert payload == {"username": "ana"}
    assert "wrong-guess" not in json.dumps(payload)


def test_failed_login_through_the_admin_form(client):
    # when
    client.post("/admin/login/", {"username": "ghost", "password": "nope-nope-123"})

    # then
    event = AuditEvent.objects.get(action=AuditAction.LOGIN_FAILED)
    assert audit_event_payload(event) == {"username": "ghost", "ip": "127.0.0.1"}


def test_checkpoint_task_and_schedule():
    # given
    record_events(2)

    # when
    sequence = checkpoint_audit.delay().get()

    # then
    assert sequence == 2 and AuditCheckpoint.objects.get().sequence == 2
    entry = settings.CELERY_BEAT_SCHEDULE["audit-checkpoint"]
    assert entry["task"] == checkpoint_audit.name and entry["schedule"] == 600


def test_checkpoint_and_export_commands():
    # given
    record_events(3)

    # when
    out = StringIO()
    call_command("checkpoint_audit", stdout=out)
    exported = StringIO()
    call_command("export_checkpoints", stdout=exported)

    # then
    assert out.getvalue().startswith("checkpoint #3 ")
    (line,) = exported.getvalue().splitlines()
    assert json.loads(line)["sequence"] == 3
