"""Writes to the audit trail. ``audit_record`` is the one entry point every service calls,
inside its own ``transaction.atomic``, so that the event commits or rolls back with the change.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ObjectDoesNotExist
from django.db import connections, models, transaction
from django.utils import timezone

from audit.crypto import (
    EVENT_VERSION,
    chain_hash,
    encrypt_payload,
    event_canonical_bytes,
    event_header_tail,
    sign_checkpoint,
)
from audit.keys import (
    Keyring,
    KeySet,
    keyring,
    keys_from_environment,
    new_key_id,
    reset_keyring_cache,
    write_key_file,
)
from audit.models import GENESIS_HASH, AuditAction, AuditChainHead, AuditCheckpoint, AuditEvent
from core.errors import Conflict
from core.outbox import outbox_send

CHECKPOINT_EVERY = 1_000

Target = models.Model | tuple[str, Any] | None


def _target_reference(target: Target) -> tuple[str, str]:
    if target is None:
        return "", ""
    if isinstance(target, models.Model):
        return target._meta.label_lower, str(target.pk)
    label, target_id = target
    return str(label).lower(), str(target_id)


def _actor_organization_id(actor: Any) -> str | None:
    # Duck typing: services_directory gives users a ``membership``; audit must not import it.
    try:
        membership = getattr(actor, "membership", None)
    except ObjectDoesNotExist:
        return None
    organization_id = getattr(membership, "organization_id", None)
    return None if organization_id is None else str(organization_id)


def _ensure_head() -> None:
    """Recreate a lost head row (a flushed database) from the newest event, never from zero,
    so that a lost head cannot restart the chain."""
    newest = (
        AuditEvent.objects.order_by("-sequence")
        .values_list("sequence", "prev_hash", "hash")
        .first()
    )
    sequence, previous_hash, last_hash = newest or (0, GENESIS_HASH, GENESIS_HASH)
    AuditChainHead.objects.bulk_create(
        [
            AuditChainHead(
                pk=1, last_sequence=sequence, last_hash=last_hash, previous_hash=previous_hash
            )
        ],
        ignore_conflicts=True,
    )


_SELECT_HEAD = "SELECT last_sequence, last_hash FROM audit_auditchainhead WHERE id = 1"
_HEAD_UPDATE = (
    "UPDATE audit_auditchainhead SET last_sequence = %s, previous_hash = %s, last_hash = %s "
    "WHERE id = 1"
)


def _lock_head() -> tuple[int, str]:
    """Lock the chain head row and read it (on SQLite the transaction holds the lock)."""
    connection = connections[AuditChainHead.objects.db]
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
    with connection.cursor() as cursor:
        cursor.execute(f"{_SELECT_HEAD}{lock}")
        row = cursor.fetchone()
        if row is None:
            _ensure_head()
            cursor.execute(f"{_SELECT_HEAD}{lock}")
            row = cursor.fetchone()
    return row


_EVENT_INSERT = (
    "INSERT INTO audit_auditevent (sequence, time, actor_id, actor_username, organization_id, "
    "action, target_label, target_id, key_id, nonce, ciphertext, prev_hash, hash) "
    "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
)
# PostgreSQL: one round trip to ``audit_append()`` (audit/database.py), which locks the
# head row, chains the hash and inserts the event.
_POSTGRESQL_APPEND = (
    "SELECT o_sequence, o_prev_hash, o_hash "
    "FROM audit_append(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
)


def _append_postgresql(connection: Any, fields: tuple) -> tuple[int, str, str] | None:
    with connection.cursor() as cursor:
        cursor.execute(
            _POSTGRESQL_APPEND,
            [f"{EVENT_VERSION};", event_header_tail(*fields), fields[8], fields[9], *fields[:8]],
        )
        return cursor.fetchone()


def _append_generic(connection: Any, fields: tuple) -> tuple[int, str, str]:
    """SQLite and others: lock the head, insert, move the head (three short statements).

    On SQLite the transaction holds the database write lock from its start (IMMEDIATE),
    so writers are serialised before they read the head.
    """
    last_sequence, prev_hash = _lock_head()
    sequence = last_sequence + 1
    event_hash = chain_hash(prev_hash, event_canonical_bytes(sequence, *fields))
    time = connection.ops.adapt_datetimefield_value(fields[0])
    with connection.cursor() as cursor:
        cursor.execute(_EVENT_INSERT, [sequence, time, *fields[1:], prev_hash, event_hash])
        cursor.execute(_HEAD_UPDATE, [sequence, prev_hash, event_hash])
    return sequence, prev_hash, event_hash


CHECKPOINT_TASK = "audit.checkpoint_audit"


# No savepoint: inside the caller's transaction a failed audit write must fail the caller.
@transaction.atomic(savepoint=False)
def audit_record(
    *,
    actor: Any,
    action: AuditAction | str,
    target: Target,
    data: dict[str, Any],
    organization_id: Any = None,
) -> AuditEvent:
    """Append one event to the chain and return it.

    ``actor`` is a user or None (the system); ``target`` a model instance, a
    ``(label, id)`` pair or None; ``data`` the changed fields, encrypted at rest.
    ``organization_id`` defaults to the actor's membership organisation.
    """
    action = AuditAction(action)
    if actor is not None and not getattr(actor, "is_authenticated", True):
        actor = None
    if organization_id is None and actor is not None:
        organization_id = _actor_organization_id(actor)
    target_label, target_id = _target_reference(target)
    now = timezone.now()
    key_id, nonce, ciphertext = encrypt_payload(
        data, time=now, target_label=target_label, target_id=target_id
    )
    fields = (
        now,
        actor.pk if actor is not None else None,
        actor.get_username() if actor is not None else "",
        None if organization_id is None else str(organization_id),
        action.value,
        target_label,
        target_id,
        key_id,
        nonce,
        ciphertext,
    )
    connection = connections[AuditEvent.objects.db]
    if connection.vendor == "postgresql":
        appended = _append_postgresql(connection, fields)
        if appended is None:  # no head row (a flushed database)
            _ensure_head()
            appended = _append_postgresql(connection, fields)
    else:
        appended = _append_generic(connection, fields)
    sequence, prev_hash, event_hash = appended
    if sequence % CHECKPOINT_EVERY == 0:
        # By the handler's registered name: audit/tasks.py calls this module, not the reverse.
        outbox_send(handler=CHECKPOINT_TASK)
    event = AuditEvent(sequence, *fields, prev_hash, event_hash)
    event._state.adding = False
    event._state.db = connection.alias
    return event


def audit_read(
    *, actor: Any, target: Target, fields: Iterable[str], organization_id: Any = None
) -> AuditEvent:
    """Record that ``actor`` saw the identifying ``fields`` of ``target`` (names, not values)."""
    return audit_record(
        actor=actor,
        action=AuditAction.READ,
        target=target,
        data={"fields": sorted(fields)},
        organization_id=organization_id,
    )


@transaction.atomic
def checkpoint_create() -> AuditCheckpoint | None:
    """Sign the current head. None when the chain is empty or already checkpointed there."""
    sequence, head_hash = _lock_head()
    if sequence == 0:
        return None
    if AuditCheckpoint.objects.filter(sequence__gte=sequence).exists():
        return None
    # Sign the hash of the stored event, not the head row's copy: the head is updatable.
    event_hash = AuditEvent.objects.filter(sequence=sequence).values_list("hash", flat=True).first()
    if event_hash is None or event_hash != head_hash:
        raise Conflict(
            f"the chain head (#{sequence}) does not match the stored events; run verify_audit",
            code="audit_head_mismatch",
        )
    now = timezone.now()
    key_id, signature = sign_checkpoint(sequence=sequence, hash=event_hash, time=now)
    checkpoint = AuditCheckpoint(
        sequence=sequence, hash=event_hash, time=now, key_id=key_id, signature=signature
    )
    checkpoint.save(force_insert=True)
    return checkpoint


@dataclass(frozen=True)
class KeyRotation:
    keyring: Keyring
    new_key_ids: dict[str, str]
    written_to_file: bool


def _with_new_key(keys: KeySet, purpose: str) -> tuple[KeySet, str]:
    key_id = new_key_id(purpose)
    return KeySet(current=key_id, keys={**keys.keys, key_id: os.urandom(32)}), key_id


@transaction.atomic
def keys_rotate(*, actor: Any, signing: bool = False) -> KeyRotation:
    """Add a new encryption key (and signing key) and make it current; old keys stay.

    With keys in a file the file is rewritten; with ``CONTINUUM_KEYS`` nothing changes on
    disk and the caller shows the new keyring for the secrets manager. The rotation is
    audited with the new key ids only. The event is written first so that a failed file
    write rolls it back.
    """
    ring = keyring()
    encryption, encryption_id = _with_new_key(ring.encryption, "encryption")
    new_ids = {"encryption": encryption_id}
    signing_set = ring.signing
    if signing:
        signing_set, new_ids["signing"] = _with_new_key(ring.signing, "signing")
    rotated = Keyring(encryption=encryption, signing=signing_set, blind_index=ring.blind_index)
    to_file = not keys_from_environment()
    audit_record(
        actor=actor,
        action=AuditAction.KEY_ROTATE,
        target=None,
        data={"new_key_ids": new_ids, "applied": to_file},
    )
    if to_file:
        write_key_file(rotated)
        reset_keyring_cache()
    return KeyRotation(keyring=rotated, new_key_ids=new_ids, written_to_file=to_file)
