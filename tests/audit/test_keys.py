from __future__ import annotations

import base64
import json
from io import StringIO

import pytest
from django.core.management import call_command

from audit.keys import keyring, parse_keyring
from audit.models import AuditAction, AuditEvent
from audit.selectors import audit_event_payload
from audit.services import checkpoint_create
from audit.verification import verify_chain

from .conftest import record_events

pytestmark = pytest.mark.django_db


def test_rotation_keeps_old_events_readable_and_the_chain_intact(audit_keyring):
    # given
    old_key = keyring().encryption.current
    record_events(3, marker="before-")
    checkpoint_create()

    # when
    out = StringIO()
    call_command("rotate_keys", "--signing", stdout=out)
    record_events(2, marker="after-")
    checkpoint_create()

    # then
    ring = parse_keyring(audit_keyring.read_text(), source="test")
    assert ring.encryption.current != old_key and old_key in ring.encryption.keys
    assert keyring().encryption.current == ring.encryption.current
    first, rotation, newest = (AuditEvent.objects.get(sequence=s) for s in (1, 4, 6))
    assert first.key_id == old_key and newest.key_id == ring.encryption.current
    assert audit_event_payload(first)["value"] == "before-1"
    assert audit_event_payload(newest)["value"] == "after-2"
    assert rotation.action == AuditAction.KEY_ROTATE
    assert audit_event_payload(rotation) == {
        "applied": True,
        "new_key_ids": {
            "encryption": ring.encryption.current,
            "signing": ring.signing.current,
        },
    }
    secrets = [base64.b64encode(raw).decode() for raw in ring.encryption.keys.values()]
    assert not any(secret in json.dumps(audit_event_payload(rotation)) for secret in secrets)
    result = verify_chain()
    assert result.ok and (result.events, result.checkpoints) == (6, 2)
    assert call_command("verify_audit", stdout=StringIO()) is None


def test_rotation_with_keys_in_the_environment_prints_and_writes_nothing(settings, audit_keyring):
    # given
    settings.CONTINUUM_KEYS = audit_keyring.read_text()
    audit_keyring.unlink()
    before = keyring()

    # when
    out, err = StringIO(), StringIO()
    call_command("rotate_keys", stdout=out, stderr=err)

    # then
    printed = parse_keyring(out.getvalue(), source="stdout")
    assert printed.encryption.current not in before.encryption.keys
    assert set(before.encryption.keys) < set(printed.encryption.keys)
    assert not audit_keyring.exists()
    assert keyring().encryption.current == before.encryption.current
    assert "secrets manager" in err.getvalue()
    event = AuditEvent.objects.get()
    assert audit_event_payload(event)["applied"] is False


def test_export_verify_key_prints_public_keys_only():
    # when
    out = StringIO()
    call_command("export_verify_key", stdout=out)

    # then
    (line,) = out.getvalue().splitlines()
    data = json.loads(line)
    assert data["key_id"] == keyring().signing.current and data["current"] is True
    assert len(base64.b64decode(data["public_key"])) == 32
    seed = base64.b64encode(keyring().signing.current_key).decode()
    assert seed not in out.getvalue()
