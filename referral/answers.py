"""The idempotency store's vault (``core.idempotency.AnswerVault``), registered at start-up
by ``ReferralConfig.ready``: ``core`` keeps no keys and imports no app, so the app that holds
the person data keys seals the stored answers.

An answer that concerns a person is sealed under that person's data key (erasure shreds it
twice over: the key is destroyed and the blob dropped); any other answer under the current
master key, bound to its record. Fingerprints are an HMAC under the blind-index key.
"""

from __future__ import annotations

import hashlib
import hmac

from audit.keys import keyring
from core.idempotency import SHREDDED
from referral import crypto
from referral.models import Person

_DIGEST_SALT = b"continuum.core.idempotency.fingerprint|"
_ORGANIZATION = "idempotency"


def _context(record_id: int) -> str:
    return f"idempotency|{record_id}|answer"


def _person(subject: str) -> Person | None:
    if not subject:
        return None
    return Person.objects.filter(pk=subject).only("pk", "data_key_id", "wrapped_data_key").first()


class PersonAnswerVault:
    def seal(self, *, record_id: int, subject: str, body: bytes) -> tuple[str, bytes | None]:
        person = _person(subject)
        if subject and (person is None or person.wrapped_data_key is None):
            return SHREDDED, None
        key_ref, blob = crypto.text_seal(
            person=person,
            organization_id=_ORGANIZATION,
            context=_context(record_id),
            value=body.decode(),
        )
        return key_ref, blob

    def open(self, *, record_id: int, subject: str, key_ref: str, blob: bytes) -> bytes | None:
        try:
            text = crypto.text_open(
                person=_person(subject),
                organization_id=_ORGANIZATION,
                context=_context(record_id),
                key_id=key_ref,
                blob=blob,
            )
        except crypto.Unreadable:
            return None
        return None if text is None else text.encode()

    def digest(self, data: bytes) -> str:
        return hmac.new(
            keyring().blind_index.current_key, _DIGEST_SALT + data, hashlib.sha256
        ).hexdigest()
