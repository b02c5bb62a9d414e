"""Cryptography of the audit trail: payload encryption, canonical bytes, chain hashes, signatures.

Canonical bytes are a netstring-like encoding (``<length>:<text>;`` per field, ``-;`` for
None), so no two different events share an encoding. The writer and the verifier both use
the functions here; change them only with a new version tag.
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from functools import lru_cache
from hashlib import sha256
from typing import Any

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.core.serializers.json import DjangoJSONEncoder

from audit.keys import keyring

EVENT_VERSION = "continuum.audit.event.v1"
CHECKPOINT_VERSION = "continuum.audit.checkpoint.v1"
NONCE_BYTES = 12


class PayloadUnreadable(Exception):
    """The key is gone (rotated out or shredded) or the ciphertext was altered."""


@lru_cache(maxsize=64)
def _aead(raw: bytes) -> AESGCM:
    return AESGCM(raw)


@lru_cache(maxsize=64)
def _signer(seed: bytes) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(seed)


def _aad(time: datetime, target_label: str, target_id: str) -> bytes:
    # Binds a ciphertext to its event (time and target), so it cannot be copied into another.
    # Not the sequence: it is only known once the chain head is locked, and encrypting
    # before that keeps the lock short.
    return f"{EVENT_VERSION}|{canonical_time(time)}|{target_label}|{target_id}".encode()


_encoder = DjangoJSONEncoder(sort_keys=True, separators=(",", ":"))


def encrypt_payload(
    data: dict[str, Any], *, time: datetime, target_label: str, target_id: str
) -> tuple[str, bytes, bytes]:
    """Encrypt ``data`` under the current encryption key: ``(key_id, nonce, ciphertext)``."""
    keys = keyring().encryption
    plaintext = _encoder.encode(data).encode()
    nonce = os.urandom(NONCE_BYTES)
    aad = _aad(time, target_label, target_id)
    return keys.current, nonce, _aead(keys.current_key).encrypt(nonce, plaintext, aad)


def decrypt_payload(
    *,
    key_id: str,
    nonce: bytes,
    ciphertext: bytes,
    time: datetime,
    target_label: str,
    target_id: str,
) -> Any:
    keys = keyring().encryption
    if key_id not in keys.keys:
        raise PayloadUnreadable(f"encryption key {key_id!r} is not in the keyring")
    try:
        plaintext = _aead(keys.keys[key_id]).decrypt(
            bytes(nonce), bytes(ciphertext), _aad(time, target_label, target_id)
        )
    except InvalidTag as exc:
        raise PayloadUnreadable("payload does not authenticate") from exc
    return json.loads(plaintext)


def canonical_time(value: datetime | str) -> str:
    """UTC, ISO 8601, always with microseconds: ``2025-03-01T12:00:00.000000+00:00``.

    Also takes SQLite's stored text (naive UTC, ``2025-03-01 12:00:00[.ffffff]``), so that
    the verifier can read rows without parsing every timestamp; text with anything but that
    space between date and time is refused (the slicing would otherwise drop it unseen).
    """
    if type(value) is str:
        if value[10:11] != " ":
            raise ValueError(f"not a stored timestamp: {value!r}")
        if len(value) == 19:
            value += ".000000"
        return f"{value[:10]}T{value[11:]}+00:00"
    if value.tzinfo is not UTC:
        value = value.astimezone(UTC)
    return value.isoformat(timespec="microseconds")


def _f(value: object) -> str:
    if value is None:
        return "-;"
    text = str(value)
    return f"{len(text)}:{text};"


def event_header_tail(
    time: datetime | str,
    actor_id: int | None,
    actor_username: str,
    organization_id: str | None,
    action: str,
    target_label: str,
    target_id: str,
    key_id: str,
    nonce: bytes,
    ciphertext: bytes,
) -> str:
    """The canonical header after the sequence field (PostgreSQL adds the sequence itself).

    Each field is ``<length>:<text>;`` and a missing one ``-;`` (what ``_f`` spells; inlined
    here because the verifier runs this for every event).
    """
    when = canonical_time(time)
    actor = "-;" if actor_id is None else _f(actor_id)
    organization = "-;" if organization_id is None else _f(organization_id)
    return (
        f"{len(when)}:{when};{actor}{len(actor_username)}:{actor_username};{organization}"
        f"{len(action)}:{action};{len(target_label)}:{target_label};"
        f"{len(target_id)}:{target_id};{len(key_id)}:{key_id};{len(nonce)}:{len(ciphertext)};"
    )


def event_canonical_bytes(
    sequence: int,
    time: datetime,
    actor_id: int | None,
    actor_username: str,
    organization_id: str | None,
    action: str,
    target_label: str,
    target_id: str,
    key_id: str,
    nonce: bytes,
    ciphertext: bytes,
) -> bytes:
    tail = event_header_tail(
        time,
        actor_id,
        actor_username,
        organization_id,
        action,
        target_label,
        target_id,
        key_id,
        nonce,
        ciphertext,
    )
    return canonical_bytes_from_tail(sequence, tail, nonce, ciphertext)


def canonical_bytes_from_tail(sequence: int, tail: str, nonce: bytes, ciphertext: bytes) -> bytes:
    number = str(sequence)
    header = f"{EVENT_VERSION};{len(number)}:{number};{tail}"
    return header.encode() + bytes(nonce) + bytes(ciphertext)


def chain_hash(prev_hash: str, canonical: bytes) -> str:
    """``SHA-256(prev_hash || canonical)``, the previous hash taken as its 32 raw bytes."""
    return sha256(bytes.fromhex(prev_hash) + canonical).hexdigest()


def stored_chain_hashes(rows: Iterable[Sequence[Any]]) -> list[str]:
    """``chain_hash(prev_hash, event_canonical_bytes(...))`` of each stored row, in one pass.

    A row is ``(sequence, time, actor_id, actor_username, organization_id, action,
    target_label, target_id, key_id, nonce, ciphertext, prev_hash, hash)``; each hash is taken
    from the row's own ``prev_hash``, so rows need no order. The bytes are those of
    ``event_canonical_bytes`` (same ``canonical_time`` and ``_f``), spelled out in one
    comprehension because the verifier runs it for every event. A value no writer stores (a
    non-hex ``prev_hash``, a ``None`` text) raises ``TypeError``, ``ValueError`` or
    ``AttributeError``; the verifier then looks at those rows one by one.
    """
    prefix = f"{EVENT_VERSION};"
    fromhex = bytes.fromhex
    return [
        sha256(
            fromhex(prev_hash)
            + (
                f"{prefix}{len(number := str(sequence))}:{number};"
                f"{len(when := canonical_time(time))}:{when};"
                f"{'-;' if actor_id is None else _f(actor_id)}"
                f"{len(actor_username)}:{actor_username};"
                f"{'-;' if organization_id is None else _f(organization_id)}"
                f"{len(action)}:{action};{len(target_label)}:{target_label};"
                f"{len(target_id)}:{target_id};{len(key_id)}:{key_id};"
                f"{len(nonce)}:{len(ciphertext)};"
            ).encode()
            + nonce
            + ciphertext
        ).hexdigest()
        for (
            sequence,
            time,
            actor_id,
            actor_username,
            organization_id,
            action,
            target_label,
            target_id,
            key_id,
            nonce,
            ciphertext,
            prev_hash,
            _hash,
        ) in rows
    ]


def checkpoint_canonical_bytes(sequence: int, hash: str, time: datetime, key_id: str) -> bytes:
    return (
        f"{CHECKPOINT_VERSION};{_f(sequence)}{_f(hash)}{_f(canonical_time(time))}{_f(key_id)}"
    ).encode()


def sign_checkpoint(*, sequence: int, hash: str, time: datetime) -> tuple[str, bytes]:
    """Sign with the current signing key: ``(key_id, signature)``."""
    keys = keyring().signing
    message = checkpoint_canonical_bytes(sequence, hash, time, keys.current)
    return keys.current, _signer(keys.current_key).sign(message)


def verify_keys_from_keyring() -> dict[str, Ed25519PublicKey]:
    return {kid: _signer(seed).public_key() for kid, seed in keyring().signing.keys.items()}


def public_key_raw_base64(key: Ed25519PublicKey) -> str:
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.b64encode(raw).decode()


def public_key_pem(key: Ed25519PublicKey) -> str:
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()


def public_key_from_base64(text: str) -> Ed25519PublicKey:
    return Ed25519PublicKey.from_public_bytes(base64.b64decode(text, validate=True))


def signature_valid(
    public_key: Ed25519PublicKey,
    signature: bytes,
    *,
    sequence: int,
    hash: str,
    time: datetime,
    key_id: str,
) -> bool:
    try:
        public_key.verify(
            bytes(signature), checkpoint_canonical_bytes(sequence, hash, time, key_id)
        )
    except InvalidSignature:
        return False
    return True
