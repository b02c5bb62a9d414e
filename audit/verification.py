"""Walk the chain, recompute every hash, check every checkpoint signature.

The walk streams tuples (no model instances) in sequence order and stops at the first
problem, naming its sequence number and kind. An outside party's copy of the checkpoints and
verify keys can be given, so that a rewritten database cannot vouch for itself.
"""

from __future__ import annotations

import base64
import json
import time as clock
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from hashlib import sha256

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from django.db import connections

from audit.crypto import (
    canonical_time,
    chain_hash,
    event_canonical_bytes,
    public_key_from_base64,
    signature_valid,
    verify_keys_from_keyring,
)
from audit.models import GENESIS_HASH, AuditChainHead, AuditCheckpoint, AuditEvent

ALTERED = "altered"
MISSING = "missing"
REORDERED = "reordered"
TRUNCATED = "truncated"
BAD_SIGNATURE = "bad_signature"

#: Exit status of ``verify_audit`` per kind of problem (0 is intact).
EXIT_CODES = {ALTERED: 2, MISSING: 3, REORDERED: 4, TRUNCATED: 5, BAD_SIGNATURE: 6}

EVENT_COLUMNS = (
    "sequence",
    "time",
    "actor_id",
    "actor_username",
    "organization_id",
    "action",
    "target_label",
    "target_id",
    "key_id",
    "nonce",
    "ciphertext",
    "prev_hash",
    "hash",
)


@dataclass(frozen=True)
class CheckpointRecord:
    sequence: int
    hash: str
    time: datetime
    key_id: str
    signature: bytes
    source: str = "database"

    def to_json(self) -> str:
        return json.dumps(
            {
                "sequence": self.sequence,
                "hash": self.hash,
                "time": canonical_time(self.time),
                "key_id": self.key_id,
                "signature": base64.b64encode(bytes(self.signature)).decode(),
            },
            sort_keys=True,
        )

    @classmethod
    def from_json(cls, line: str, *, source: str) -> CheckpointRecord:
        data = json.loads(line)
        return cls(
            sequence=int(data["sequence"]),
            hash=str(data["hash"]),
            time=datetime.fromisoformat(data["time"]),
            key_id=str(data["key_id"]),
            signature=base64.b64decode(data["signature"]),
            source=source,
        )


@dataclass(frozen=True)
class Problem:
    kind: str
    sequence: int
    detail: str

    def __str__(self) -> str:
        return f"{self.kind.replace('_', ' ')} at sequence {self.sequence}: {self.detail}"


@dataclass
class VerificationResult:
    events: int = 0
    checkpoints: int = 0
    seconds: float = 0.0
    last_sequence: int = 0
    last_hash: str = GENESIS_HASH
    problem: Problem | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.problem is None

    @property
    def rate(self) -> float:
        return self.events / self.seconds if self.seconds > 0 else 0.0

    def summary(self) -> str:
        if self.problem is not None:
            return f"FAILED: {self.problem}"
        return (
            f"OK: {self.events} events, {self.checkpoints} checkpoints verified "
            f"(head #{self.last_sequence}) in {self.seconds:.2f}s, {self.rate:,.0f} events/s"
        )


def stored_checkpoints() -> list[CheckpointRecord]:
    return [
        CheckpointRecord(sequence=s, hash=h, time=t, key_id=k, signature=bytes(sig))
        for s, h, t, k, sig in AuditCheckpoint.objects.order_by("sequence", "id").values_list(
            "sequence", "hash", "time", "key_id", "signature"
        )
    ]


def read_checkpoint_lines(lines: Iterable[str], *, source: str) -> list[CheckpointRecord]:
    return [CheckpointRecord.from_json(line, source=source) for line in lines if line.strip()]


def read_verify_key_lines(lines: Iterable[str]) -> dict[str, Ed25519PublicKey]:
    """Verify keys as printed by ``export_verify_key``: JSON lines with key_id, public_key."""
    keys = {}
    for line in lines:
        if line.strip():
            data = json.loads(line)
            keys[data["key_id"]] = public_key_from_base64(data["public_key"])
    return keys


_SELECT_EVENTS = (
    "SELECT sequence, {time}, actor_id, actor_username, organization_id, action, target_label, "
    "target_id, key_id, nonce, ciphertext, prev_hash, hash FROM audit_auditevent ORDER BY sequence"
)


def _event_rows(chunk_size: int) -> Iterator[tuple]:
    """Raw tuples in sequence order, streamed (a server-side cursor on PostgreSQL).

    No ORM converters: SQLite's timestamps stay text (an expression has no declared type, so
    sqlite3 leaves it alone), which ``canonical_time`` reads directly.
    """
    connection = connections[AuditEvent.objects.db]
    time = "time || ''" if connection.vendor == "sqlite" else "time"
    with connection.chunked_cursor() as cursor:
        cursor.execute(_SELECT_EVENTS.format(time=time))
        while rows := cursor.fetchmany(chunk_size):
            yield from rows


def _self_consistent(row: tuple, sequence: int) -> bool:
    """Does the row's stored hash match its own content placed at ``sequence``?"""
    try:
        return chain_hash(row[11], event_canonical_bytes(sequence, *row[1:11])) == row[12]
    except (ValueError, TypeError):
        return False


def _classify(row: tuple, expected_prev: str) -> Problem:
    """The row at its place does not chain: was it altered, or moved from elsewhere?"""
    sequence, stored_prev, stored_hash = row[0], row[11], row[12]
    if _self_consistent(row, sequence):
        # The row is intact but records a different predecessor: the one before it was
        # rewritten (with a recomputed hash) or replaced.
        return Problem(
            ALTERED,
            sequence - 1,
            f"event #{sequence} records a different predecessor hash than event "
            f"#{sequence - 1} has",
        )
    # Where was it written? Just before the event that names it as predecessor, or just
    # after the event it names.
    candidates = {
        s - 1
        for s in AuditEvent.objects.filter(prev_hash=stored_hash).values_list("sequence", flat=True)
    }
    candidates |= {
        s + 1
        for s in AuditEvent.objects.filter(hash=stored_prev).values_list("sequence", flat=True)
    }
    for candidate in sorted(candidates - {sequence}):
        if _self_consistent(row, candidate):
            return Problem(
                REORDERED,
                sequence,
                f"the event stored at #{sequence} was written as #{candidate}",
            )
    if stored_prev != expected_prev:
        return Problem(ALTERED, sequence, "prev_hash does not match the previous event")
    return Problem(ALTERED, sequence, "stored hash does not match the event's content")


def _check_signatures(
    checkpoints: list[CheckpointRecord], keys: dict[str, Ed25519PublicKey]
) -> Problem | None:
    for checkpoint in checkpoints:
        key = keys.get(checkpoint.key_id)
        if key is None:
            return Problem(
                BAD_SIGNATURE,
                checkpoint.sequence,
                f"checkpoint ({checkpoint.source}) names unknown signing key {checkpoint.key_id!r}",
            )
        if not signature_valid(
            key,
            checkpoint.signature,
            sequence=checkpoint.sequence,
            hash=checkpoint.hash,
            time=checkpoint.time,
            key_id=checkpoint.key_id,
        ):
            return Problem(
                BAD_SIGNATURE,
                checkpoint.sequence,
                f"checkpoint ({checkpoint.source}) signature does not verify",
            )
    return None


def verify_chain(
    *,
    external_checkpoints: Iterable[CheckpointRecord] = (),
    verify_keys: dict[str, Ed25519PublicKey] | None = None,
    progress: Callable[[int, int], None] | None = None,
    chunk_size: int = 5000,
) -> VerificationResult:
    """Verify the whole chain and every checkpoint; stop at the first problem."""
    started = clock.perf_counter()
    result = VerificationResult()
    keys = verify_keys if verify_keys is not None else verify_keys_from_keyring()
    checkpoints = stored_checkpoints() + list(external_checkpoints)
    result.checkpoints = len(checkpoints)
    result.problem = _check_signatures(checkpoints, keys)
    if result.problem is not None:
        result.seconds = clock.perf_counter() - started
        return result
    signed: dict[int, list[CheckpointRecord]] = {}
    for checkpoint in checkpoints:
        signed.setdefault(checkpoint.sequence, []).append(checkpoint)
    head = AuditChainHead.objects.filter(pk=1).values_list("last_sequence", flat=True).first()
    total = head or 0

    expected = 1
    prev_digest = bytes(32)
    prev_hex = GENESIS_HASH
    for row in _event_rows(chunk_size):
        sequence = row[0]
        if sequence != expected:
            result.problem = Problem(
                MISSING,
                expected,
                f"the chain jumps from #{expected - 1} to #{sequence}",
            )
            break
        digest = sha256(prev_digest + event_canonical_bytes(*row[:11])).digest()
        hexdigest = digest.hex()
        if hexdigest != row[12] or row[11] != prev_hex:
            result.problem = _classify(row, prev_hex)
            break
        if sequence in signed:
            for checkpoint in signed[sequence]:
                if checkpoint.hash != hexdigest:
                    result.problem = Problem(
                        ALTERED,
                        sequence,
                        f"the chain was rewritten at or before #{sequence}: its hash "
                        f"differs from the signed checkpoint ({checkpoint.source})",
                    )
                    break
            if result.problem is not None:
                break
        prev_digest, prev_hex = digest, hexdigest
        expected += 1
        if progress is not None and sequence % chunk_size == 0:
            progress(sequence, total)

    result.events = expected - 1
    result.last_sequence = expected - 1
    result.last_hash = prev_hex
    if result.problem is None:
        newest_signed = max(signed, default=0)
        if newest_signed > result.last_sequence:
            result.problem = Problem(
                TRUNCATED,
                result.last_sequence + 1,
                f"the chain ends at #{result.last_sequence} but a signed checkpoint "
                f"covers #{newest_signed}",
            )
        elif head is not None and head > result.last_sequence:
            result.problem = Problem(
                TRUNCATED,
                result.last_sequence + 1,
                f"the chain ends at #{result.last_sequence} but its head row is at #{head}",
            )
    if progress is not None:
        progress(result.last_sequence, total)
    result.seconds = clock.perf_counter() - started
    return result
