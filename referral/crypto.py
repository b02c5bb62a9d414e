"""Encryption of identifying data: a data key per person, wrapped by the master key.

- Each person gets 32 random bytes as their data key, stored only wrapped (AES-256-GCM under
  the current master ``encryption`` key, key id recorded). Rotating the master key does not
  re-encrypt anything: old wrapped keys stay readable by their key id.
- Identifying fields and free text about the person (notes of their contacts and referrals)
  are AES-256-GCM under the person's data key, bound by associated data to the row and field
  so a ciphertext cannot be moved to another person or field.
- Erasure destroys the wrapped key: every ciphertext of the person becomes noise at once,
  wherever it is, while the rows (dates, statuses, counts) stay for the flows.
- Text not about a known person (an anonymous contact's notes, an anonymous referral's
  reasons) is encrypted under the master key directly, bound to the organisation and row.
- The blind index is an HMAC-SHA-256 over normalised names and birth date under its own key:
  exact duplicate detection without storing plaintext.

Blob layout: 12-byte nonce || ciphertext-with-tag.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import unicodedata
from dataclasses import dataclass
from datetime import date

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from audit.keys import keyring

VERSION = "continuum.person.v1"
NONCE_BYTES = 12
PERSON_KEY = "person"  # key id marker: "encrypted under the person's data key"


class Unreadable(Exception):
    """The key is gone (erased person, key removed from the ring) or the data was altered."""


def _seal(key: bytes, plaintext: bytes, aad: bytes) -> bytes:
    nonce = os.urandom(NONCE_BYTES)
    return nonce + AESGCM(key).encrypt(nonce, plaintext, aad)


def _open(key: bytes, blob: bytes, aad: bytes) -> bytes:
    blob = bytes(blob)
    try:
        return AESGCM(key).decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], aad)
    except InvalidTag as exc:
        raise Unreadable("ciphertext does not authenticate") from exc


@dataclass(frozen=True)
class WrappedKey:
    key_id: str
    wrapped: bytes


def data_key_new(*, person_id: str) -> tuple[bytes, WrappedKey]:
    """A fresh data key for a person, and its wrapped form to store."""
    raw = os.urandom(32)
    master = keyring().encryption
    wrapped = _seal(master.current_key, raw, f"{VERSION}|data-key|{person_id}".encode())
    return raw, WrappedKey(key_id=master.current, wrapped=wrapped)


def data_key_unwrap(*, person_id: str, key_id: str, wrapped: bytes | None) -> bytes:
    if wrapped is None:
        raise Unreadable("the person's data key was destroyed (erased)")
    keys = keyring().encryption
    if key_id not in keys.keys:
        raise Unreadable(f"master key {key_id!r} is not in the keyring")
    return _open(keys.keys[key_id], wrapped, f"{VERSION}|data-key|{person_id}".encode())


def field_encrypt(
    *, data_key: bytes, person_id: str, field: str, value: str | None
) -> bytes | None:
    if value is None or value == "":
        return None
    return _seal(data_key, value.encode(), f"{VERSION}|{person_id}|{field}".encode())


def field_decrypt(*, data_key: bytes, person_id: str, field: str, blob: bytes | None) -> str | None:
    if blob is None:
        return None
    return _open(data_key, blob, f"{VERSION}|{person_id}|{field}".encode()).decode()


def master_encrypt(*, value: str, context: str) -> tuple[str, bytes]:
    """Encrypt text that belongs to no known person under the current master key."""
    master = keyring().encryption
    return master.current, _seal(
        master.current_key, value.encode(), f"{VERSION}|{context}".encode()
    )


def master_decrypt(*, key_id: str, blob: bytes, context: str) -> str:
    keys = keyring().encryption
    if key_id not in keys.keys:
        raise Unreadable(f"master key {key_id!r} is not in the keyring")
    return _open(keys.keys[key_id], blob, f"{VERSION}|{context}".encode()).decode()


def text_seal(
    *, person, organization_id, context: str, value: str | None
) -> tuple[str, bytes | None]:
    """Seal free text about a person: ``(key_id, blob)`` to store.

    Under the person's data key when there is a person (``PERSON_KEY``; erasing them shreds
    it), else under the current master key bound to ``organization_id``. ``person`` is any
    object with ``pk``, ``data_key_id`` and ``wrapped_data_key`` (migrations pass historical
    rows). Empty text is ``("", None)``. Raises ``Unreadable`` for an erased person: nothing
    new may be kept about them."""
    if not value:
        return "", None
    if person is not None:
        key = data_key_unwrap(
            person_id=str(person.pk),
            key_id=person.data_key_id,
            wrapped=None if person.wrapped_data_key is None else bytes(person.wrapped_data_key),
        )
        return PERSON_KEY, field_encrypt(
            data_key=key, person_id=str(person.pk), field=context, value=value
        )
    return master_encrypt(value=value, context=f"organization|{organization_id}|{context}")


def text_open(
    *, person, organization_id, context: str, key_id: str, blob: bytes | None
) -> str | None:
    """The text ``text_seal`` sealed; None when there is none. Raises ``Unreadable`` after
    erasure or tampering."""
    if blob is None:
        return None
    blob = bytes(blob)
    if key_id == PERSON_KEY:
        if person is None:
            raise Unreadable("sealed under a person's key, but no person")
        key = data_key_unwrap(
            person_id=str(person.pk),
            key_id=person.data_key_id,
            wrapped=None if person.wrapped_data_key is None else bytes(person.wrapped_data_key),
        )
        return field_decrypt(data_key=key, person_id=str(person.pk), field=context, blob=blob)
    return master_decrypt(
        key_id=key_id, blob=blob, context=f"organization|{organization_id}|{context}"
    )


def referral_reason_context(referral_id) -> str:
    return f"referral|{referral_id}|reason"


def event_reason_context(event_id) -> str:
    return f"referral-event|{event_id}|reason"


def _normalise(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    letters = "".join(c for c in decomposed if c.isalnum() and not unicodedata.combining(c))
    return letters


def blind_index_values(
    *, given_name: str | None, family_name: str | None, birth_date: date | None
) -> dict[str, str]:
    """The blind index under every blind-index key in the ring, by key id; empty when there is
    too little to match on (all of given name, family name and birth date are needed).

    Matching against every key lets duplicates be found across a key rotation."""
    given, family = _normalise(given_name or ""), _normalise(family_name or "")
    if not (given and family and birth_date):
        return {}
    message = f"{given}|{family}|{birth_date.isoformat()}".encode()
    return {
        key_id: hmac.new(raw, message, hashlib.sha256).hexdigest()
        for key_id, raw in keyring().blind_index.keys.items()
    }


def blind_index_current(
    *, given_name: str | None, family_name: str | None, birth_date: date | None
) -> tuple[str, str]:
    """``(digest, key_id)`` under the current blind-index key, or ``("", "")``."""
    values = blind_index_values(
        given_name=given_name, family_name=family_name, birth_date=birth_date
    )
    current = keyring().blind_index.current
    return (values[current], current) if values else ("", "")
