"""Walk the chain, recompute every hash, check every checkpoint signature.

The walk streams tuples (no model instances) in sequence order, checks them a batch at a
time with list operations, and stops at the first problem, naming its sequence number and
kind (a batch that fails is walked again row by row to find it). An outside party's copy of
the checkpoints and verify keys can be given, so that a rewritten database cannot vouch for
itself.
"""

from __future__ import annotations

import base64
import gc
import json
import time as clock
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from hashlib import sha256
from queue import Empty, Queue
from threading import Event, Thread

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from django.db import connections, transaction

from audit.crypto import (
    canonical_time,
    chain_hash,
    event_canonical_bytes,
    public_key_from_base64,
    signature_valid,
    stored_chain_hashes,
    verify_keys_from_keyring,
)
from audit.models import GENESIS_HASH, AuditChainHead, AuditCheckpoint, AuditEvent

ALTERED = "altered"
MISSING = "missing"
REORDERED = "reordered"
TRUNCATED = "truncated"
BAD_SIGNATURE = "bad_signature"

#: Events read and checked at a time (some 10 MB of tuples; on PostgreSQL two more wait).
CHUNK_SIZE = 10_000

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


# The time column as text that ``canonical_time`` reads without parsing a datetime per row.
# SQLite stores it so (an expression has no declared type, so sqlite3 applies no converter).
# PostgreSQL formats it in UTC the way SQLite stores it (``pg_catalog.``: no function of that
# name elsewhere on the search path can stand in); a time before year 1 stays NULL, since
# ``to_char`` would print a BC year like the AD one.
_TIME_SQL = {
    "sqlite": "time || ''",
    "postgresql": (
        "CASE WHEN time >= '0001-01-01T00:00:00Z' "
        "THEN pg_catalog.to_char(time AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US') END"
    ),
}
_SELECT_EVENTS = (
    "SELECT sequence, {time}, actor_id, actor_username, organization_id, action, target_label, "
    "target_id, key_id, nonce, ciphertext, prev_hash, hash FROM audit_auditevent ORDER BY sequence"
)


@contextmanager
def _cyclic_gc_paused() -> Iterator[None]:
    """The walk makes a tuple per row and no cycles; the cycle collector would otherwise run
    every few hundred rows and go through every live batch (a tenth of the walk's time)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@contextmanager
def _event_batches(batch_size: int) -> Iterator[Iterator[list[tuple]]]:
    """Raw tuples in sequence order, ``batch_size`` at a time, never the whole table.

    SQLite: a plain cursor, which steps through the table as rows are fetched. PostgreSQL: a
    server-side cursor inside a transaction (outside one, Django declares it ``WITH HOLD``,
    and the server copies the whole result before the first fetch), read ahead by a thread.
    """
    connection = connections[AuditEvent.objects.db]
    sql = _SELECT_EVENTS.format(time=_TIME_SQL.get(connection.vendor, "time"))
    if connection.vendor != "postgresql":
        with connection.chunked_cursor() as cursor:
            cursor.execute(sql)
            yield iter(partial(cursor.fetchmany, batch_size), [])
        return
    with transaction.atomic(using=connection.alias), connection.chunked_cursor() as cursor:
        cursor.execute(sql)
        with _read_ahead(partial(cursor.fetchmany, batch_size)) as batches:
            yield batches


@contextmanager
def _read_ahead(fetch: Callable[[], list[tuple]]) -> Iterator[Iterator[list[tuple]]]:
    """Batches from ``fetch`` (until an empty one), the next fetched while this one is used.

    The server produces the next batch while this process hashes the current one (the driver
    waits for it with the GIL released); without this they take turns. Not for SQLite, whose
    driver releases the GIL around every row and would only trade it back and forth. At most
    two batches wait. When the caller leaves early, the reader stops before the cursor
    closes, so the connection is free for the caller's next query.
    """
    queue: Queue[list[tuple] | BaseException] = Queue(maxsize=2)
    stop = Event()

    def read() -> None:
        try:
            while not stop.is_set():
                rows = fetch()
                queue.put(rows)
                if not rows:
                    return
        except BaseException as exc:  # handed over to the caller's thread
            queue.put(exc)

    def batches() -> Iterator[list[tuple]]:
        while True:
            item = queue.get()
            if isinstance(item, BaseException):
                raise item
            if not item:
                return
            yield item

    reader = Thread(target=read, name="verify_audit-reader", daemon=True)
    reader.start()
    try:
        yield batches()
    finally:
        stop.set()
        while reader.is_alive():
            with suppress(Empty):
                queue.get(timeout=0.05)
        reader.join()


def _self_consistent(row: tuple, sequence: int) -> bool:
    """Does the row's stored hash match its own content placed at ``sequence``?"""
    try:
        return chain_hash(row[11], event_canonical_bytes(sequence, *row[1:11])) == row[12]
    except (ValueError, TypeError, AttributeError):
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


class _Walk:
    """Where the walk stands: the next sequence expected and the hash it must chain to.

    ``take_batch`` checks a whole batch with list operations; only a batch that fails goes
    through ``take_rows``, one row at a time, which names the first problem exactly.
    """

    def __init__(self, signed: dict[int, list[CheckpointRecord]]) -> None:
        self.signed = signed
        self.signed_sequences = sorted(signed)
        self.expected = 1
        self.prev_hex = GENESIS_HASH
        self.problem: Problem | None = None
        self.suspect: tuple | None = None  # a row that does not chain, classified later

    def take_batch(self, rows: list[tuple]) -> bool:
        """Take ``rows`` if every one chains; False (and nothing taken) if any does not.

        Each hash is computed from the row's own ``prev_hash`` and each ``prev_hash`` must
        equal the hash before it, which together say what the one-by-one walk says.
        """
        expected, count = self.expected, len(rows)
        if rows[0][0] != expected or rows[-1][0] != expected + count - 1:
            return False
        try:
            hashes = stored_chain_hashes(rows)
        except (ValueError, TypeError, AttributeError):
            return False
        stored = [row[12] for row in rows]
        if (
            hashes != stored
            or [row[11] for row in rows] != [self.prev_hex, *stored[:-1]]
            or [row[0] for row in rows] != list(range(expected, expected + count))
        ):
            return False
        first = bisect_left(self.signed_sequences, expected)
        last = bisect_right(self.signed_sequences, expected + count - 1)
        for sequence in self.signed_sequences[first:last]:
            if any(c.hash != hashes[sequence - expected] for c in self.signed[sequence]):
                return False
        self.expected += count
        self.prev_hex = stored[-1]
        return True

    def take_rows(self, rows: list[tuple]) -> bool:
        """Take rows one by one up to the first problem; False once there is one."""
        expected = self.expected
        prev_digest, prev_hex = bytes.fromhex(self.prev_hex), self.prev_hex
        for row in rows:
            sequence = row[0]
            if sequence != expected:
                self.problem = Problem(
                    MISSING,
                    expected,
                    f"the chain jumps from #{expected - 1} to #{sequence}",
                )
                break
            try:
                digest = sha256(prev_digest + event_canonical_bytes(*row[:11])).digest()
            except (ValueError, TypeError, AttributeError):
                digest = b""
            hexdigest = digest.hex()
            if hexdigest != row[12] or row[11] != prev_hex:
                self.suspect = row
                break
            for checkpoint in self.signed.get(sequence, ()):
                if checkpoint.hash != hexdigest:
                    self.problem = Problem(
                        ALTERED,
                        sequence,
                        f"the chain was rewritten at or before #{sequence}: its hash "
                        f"differs from the signed checkpoint ({checkpoint.source})",
                    )
                    break
            if self.problem is not None:
                break
            prev_digest, prev_hex = digest, hexdigest
            expected += 1
        self.expected, self.prev_hex = expected, prev_hex
        return self.problem is None and self.suspect is None


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
    chunk_size: int = CHUNK_SIZE,
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

    walk = _Walk(signed)
    with _cyclic_gc_paused(), _event_batches(chunk_size) as batches:
        for rows in batches:
            if not walk.take_batch(rows) and not walk.take_rows(rows):
                break
            if progress is not None and walk.expected - 1 < total:
                progress(walk.expected - 1, total)
    # Classified after the stream is closed: it queries the table again.
    result.problem = walk.problem or (
        _classify(walk.suspect, walk.prev_hex) if walk.suspect is not None else None
    )
    result.events = walk.expected - 1
    result.last_sequence = walk.expected - 1
    result.last_hash = walk.prev_hex
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
