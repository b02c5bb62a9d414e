"""Audit trail benchmark: what the audit write adds to a business write, and how fast the
chain verifies.

    .venv/bin/python bench/audit.py [--quick]

Runs against a throwaway database of its own (SQLite in /tmp, or a separate
``bench_audit_<pid>`` database when ``DATABASE_URL`` points at PostgreSQL) with a generated
keyring, and prints ratios against baselines measured in the same run:

- ``append_cost_ratio``: a minimal business write (create a group, update a user, one
  transaction) with ``audit_record`` vs the same write without it (target < 1.3); the
  hardest case, since the write itself is tiny;
- ``append_cost_ratio_service_update``: the directory's real ``service_update`` service with
  its audit event vs the same call with the audit call swapped for a no-op;
- ``verify_rate``: events/s of ``verify_chain`` over 1,000,000 events (``--quick``: 20,000)
  vs a bare ``hashlib.sha256`` loop over the same canonical bytes, in the same run (target
  >= 200,000 events/s), printed with the load average, since other work on the cores slows
  it. The chain is the append benchmarks' events, then a bulk-built stretch (see
  ``bulk_chain``), then a few more ``audit_record`` events on top of it.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from hashlib import sha256
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

APPEND_TARGET = 1.3
VERIFY_TARGET = 200_000


def business_write(user, number: int, *, audited: bool, organization_id: str) -> None:
    from django.contrib.auth.models import Group
    from django.db import transaction

    from audit.models import AuditAction
    from audit.services import audit_record

    with transaction.atomic():
        group = Group.objects.create(name=f"bench-{int(audited)}-{number}")
        user.last_name = f"n{number}"
        user.save(update_fields=["last_name"])
        if audited:
            audit_record(
                actor=user,
                action=AuditAction.CREATE,
                target=group,
                data={"name": group.name, "last_name": user.last_name},
                organization_id=organization_id,
            )


def measure_append(*, operations: int, batch: int = 50) -> tuple[float, float, float]:
    """(ratio, with-audit ops/s, without ops/s).

    Small alternating batches, so that machine noise and a growing database hit both sides
    alike; the ratio is the median of the per-batch ratios.
    """
    from django.contrib.auth.models import User

    user = User.objects.create_user(username="bench-actor")
    organization_id = "5f0c2a8e-4a3b-4d7e-9a51-3f1c0de0b001"
    counter = 0
    seconds = {False: 0.0, True: 0.0}
    ratios = []
    for warm_up in range(20):
        business_write(user, -warm_up - 1, audited=True, organization_id=organization_id)
        business_write(user, -warm_up - 1000, audited=False, organization_id=organization_id)
    for _ in range(max(1, operations // batch)):
        batch_seconds = {}
        for audited in (False, True):
            started = time.perf_counter()
            for _ in range(batch):
                counter += 1
                business_write(user, counter, audited=audited, organization_id=organization_id)
            batch_seconds[audited] = time.perf_counter() - started
            seconds[audited] += batch_seconds[audited]
        ratios.append(batch_seconds[True] / batch_seconds[False])
    done = max(1, operations // batch) * batch
    return statistics.median(ratios), done / seconds[True], done / seconds[False]


def measure_service_append(*, operations: int, batch: int = 50) -> tuple[float, float, float]:
    """The same comparison on a real business service: ``service_update`` of the directory
    (lock the row, validate, save, audit). "Without audit" is that very call with the
    module's ``audit_record`` swapped for a no-op in this benchmark process only."""
    import services_directory.services as directory

    organization = directory.organization_create(
        name="Bench org", kind="treatment", description="bench"
    )
    service = directory.service_create(
        actor=None, organization=organization, data={"name": "Bench", "stage": "treatment"}
    )
    real = directory.audit_record

    def skip(**kwargs):
        return None

    seconds = {False: 0.0, True: 0.0}
    ratios = []
    counter = 0
    for audited in (True, False) * 10:  # warm-up
        directory.audit_record = real if audited else skip
        counter += 1
        directory.service_update(actor=None, service=service, data={"capacity_available": counter})
    try:
        for _ in range(max(1, operations // batch)):
            batch_seconds = {}
            for audited in (False, True):
                directory.audit_record = real if audited else skip
                started = time.perf_counter()
                for _ in range(batch):
                    counter += 1
                    directory.service_update(
                        actor=None, service=service, data={"capacity_available": counter}
                    )
                batch_seconds[audited] = time.perf_counter() - started
                seconds[audited] += batch_seconds[audited]
            ratios.append(batch_seconds[True] / batch_seconds[False])
    finally:
        directory.audit_record = real
    done = max(1, operations // batch) * batch
    return statistics.median(ratios), done / seconds[True], done / seconds[False]


def fill_chain(events: int) -> None:
    """Append through the real write path, one ``audit_record`` call per event."""
    from audit.models import AuditAction
    from audit.services import audit_record

    for number in range(events):
        audit_record(
            actor=None,
            action=AuditAction.UPDATE,
            target=("referral.person", number),
            data={"field": "stage", "to": "treatment", "number": number},
            organization_id="5f0c2a8e-4a3b-4d7e-9a51-3f1c0de0b001",
        )


_EVENT_COLUMNS_SQL = (
    "sequence, time, actor_id, actor_username, organization_id, action, target_label, "
    "target_id, key_id, nonce, ciphertext, prev_hash, hash"
)
_COPY_EVENTS = f"COPY audit_auditevent ({_EVENT_COLUMNS_SQL}) FROM STDIN"
_INSERT_EVENT = (
    "INSERT INTO audit_auditevent (sequence, time, actor_id, actor_username, organization_id, "
    "action, target_label, target_id, key_id, nonce, ciphertext, prev_hash, hash) "
    "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
)


def bulk_chain(events: int, *, batch: int = 10_000) -> None:
    """Extend the chain by ``events`` correctly chained rows, written in bulk.

    ``audit_record`` one at a time would take longer than the verification it sets up. The
    rows are what the writer stores: payloads encrypted with ``encrypt_payload``, hashes from
    ``chain_hash``/``event_canonical_bytes`` (the functions ``audit_record`` uses), chained on
    from the current head, and a signed checkpoint every ``CHECKPOINT_EVERY`` events as the
    checkpoint task makes. The head row is moved to the last one, so the real writer carries
    on from there (``main`` appends a few events through it afterwards).
    """
    from datetime import UTC, datetime, timedelta

    from django.db import connection, transaction

    from audit.crypto import chain_hash, encrypt_payload, event_canonical_bytes, sign_checkpoint
    from audit.models import AuditAction, AuditChainHead, AuditCheckpoint
    from audit.services import CHECKPOINT_EVERY, _lock_head

    postgresql = connection.vendor == "postgresql"
    started = datetime.now(UTC)
    actions = [AuditAction.UPDATE.value, AuditAction.CREATE.value, AuditAction.READ.value]
    with transaction.atomic():
        sequence, prev_hash = _lock_head()
        previous = prev_hash
        end = sequence + events
        while sequence < end:
            rows, checkpoints = [], []
            for _ in range(min(batch, end - sequence)):
                sequence += 1
                # Varied rows: system and user actors, every 7th at a whole second (SQLite
                # then stores the time without a fraction).
                when = started + timedelta(microseconds=sequence * 137)
                if sequence % 7 == 0:
                    when = when.replace(microsecond=0)
                target_label, target_id = "referral.person", str(sequence)
                key_id, nonce, ciphertext = encrypt_payload(
                    {"field": "stage", "to": "treatment", "number": sequence},
                    time=when,
                    target_label=target_label,
                    target_id=target_id,
                )
                user = sequence % 3 == 0
                fields = (
                    when,
                    sequence % 50 + 1 if user else None,
                    f"worker-{sequence % 50 + 1}" if user else "",
                    "5f0c2a8e-4a3b-4d7e-9a51-3f1c0de0b001" if sequence % 5 else None,
                    actions[sequence % 3],
                    target_label,
                    target_id,
                    key_id,
                    nonce,
                    ciphertext,
                )
                event_hash = chain_hash(prev_hash, event_canonical_bytes(sequence, *fields))
                stored_time = when if postgresql else connection.ops.adapt_datetimefield_value(when)
                rows.append((sequence, stored_time, *fields[1:], prev_hash, event_hash))
                previous, prev_hash = prev_hash, event_hash
                if sequence % CHECKPOINT_EVERY == 0:
                    signed_at = when + timedelta(seconds=1)
                    signing_key, signature = sign_checkpoint(
                        sequence=sequence, hash=event_hash, time=signed_at
                    )
                    checkpoints.append(
                        AuditCheckpoint(
                            sequence=sequence,
                            hash=event_hash,
                            time=signed_at,
                            key_id=signing_key,
                            signature=signature,
                        )
                    )
            if postgresql:
                raw = connection.connection  # psycopg 3: COPY is the fast bulk path
                with raw.cursor() as cursor, cursor.copy(_COPY_EVENTS) as copy:
                    for row in rows:
                        copy.write_row(row)
            else:
                with connection.cursor() as cursor:
                    cursor.executemany(_INSERT_EVENT, rows)
            AuditCheckpoint.objects.bulk_create(checkpoints)
        AuditChainHead.objects.filter(pk=1).update(
            last_sequence=sequence, last_hash=prev_hash, previous_hash=previous
        )


def measure_verify(*, rounds: int, sample: int = 200_000) -> tuple[int, float, float, float]:
    """(events, verify events/s, raw sha256 events/s, verify events per CPU second).

    The baseline is a bare ``sha256(previous digest + canonical bytes)`` loop over the first
    ``sample`` events' canonical bytes (built once, not timed; a rate, so the sample need not
    be the whole chain). Verify and baseline alternate, best of ``rounds`` each, so both see
    the same machine. The CPU figure is this process only (on PostgreSQL the server works
    besides); it says what the walk costs when other work shares the cores.
    """
    from audit.crypto import event_canonical_bytes
    from audit.models import AuditEvent
    from audit.verification import EVENT_COLUMNS, verify_chain

    blobs = [
        event_canonical_bytes(*row[:11])
        for row in AuditEvent.objects.order_by("sequence").values_list(*EVENT_COLUMNS)[:sample]
    ]
    wall, cpu, raw = [], [], []
    for _ in range(rounds):
        cpu_started = time.process_time()
        result = verify_chain()
        cpu.append(time.process_time() - cpu_started)
        if not result.ok:
            raise SystemExit(f"the benchmark chain does not verify: {result.problem}")
        wall.append(result.seconds)
        started = time.perf_counter()
        digest = bytes(32)
        for blob in blobs:
            digest = sha256(digest + blob).digest()
        raw.append(time.perf_counter() - started)
    events = result.events
    return events, events / min(wall), len(blobs) / min(raw), events / min(cpu)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, a few seconds")
    parser.add_argument(
        "--verify-only", action="store_true", help="skip the append ratios, measure verify only"
    )
    args = parser.parse_args()
    operations, events = (1_000, 20_000) if args.quick else (10_000, 1_000_000)

    from audit.keys import generate_keyring

    # A keyring of its own: never the developer's key file, never production keys.
    os.environ["CONTINUUM_KEYS"] = generate_keyring().to_json()
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection

    # Measure what production runs: DEBUG off (with DEBUG on, Django times and logs every query).
    settings.DEBUG = False

    name = (
        f"bench_audit_{os.getpid()}"
        if connection.vendor == "postgresql"
        else f"/tmp/continuum-bench-audit-{os.getpid()}.sqlite3"  # noqa: S108
    )
    connection.settings_dict.setdefault("TEST", {})["NAME"] = name
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    try:
        print(f"database={connection.vendor} quick={args.quick}")
        if not args.verify_only:
            ratio, with_audit, without = measure_append(operations=operations)
            print(
                f"append_cost_ratio={ratio:.2f} (with_audit={with_audit:,.0f} ops/s, "
                f"without={without:,.0f} ops/s) target<{APPEND_TARGET} "
                f"{'ok' if ratio < APPEND_TARGET else 'MISSED'}"
            )
            ratio, with_audit, without = measure_service_append(operations=operations)
            print(
                f"append_cost_ratio_service_update={ratio:.2f} "
                f"(with_audit={with_audit:,.0f} ops/s, without={without:,.0f} ops/s) "
                f"target<{APPEND_TARGET} {'ok' if ratio < APPEND_TARGET else 'MISSED'}"
            )
        from audit.models import AuditEvent

        built = time.perf_counter()
        appended = AuditEvent.objects.count()
        bulk = max(0, events - appended - 100)
        bulk_chain(bulk)
        fill_chain(100)
        print(
            f"chain_built events={AuditEvent.objects.count():,} ({appended + 100:,} by "
            f"audit_record, {bulk:,} in bulk) in {time.perf_counter() - built:.1f}s"
        )
        count, verify_rate, raw_rate, cpu_rate = measure_verify(rounds=3 if args.quick else 5)
        print(
            f"verify_rate={verify_rate:,.0f} events/s raw_sha256={raw_rate:,.0f} events/s "
            f"ratio={verify_rate / raw_rate:.3f} events={count:,} target>={VERIFY_TARGET:,} "
            f"{'ok' if verify_rate >= VERIFY_TARGET else 'MISSED'} "
            f"(cpu_rate={cpu_rate:,.0f} events per CPU second of this process, "
            f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs)"
        )
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
