from __future__ import annotations

import datetime
import json
from io import StringIO

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction

from audit.models import AuditCheckpoint
from audit.services import checkpoint_create
from audit.verification import EXIT_CODES, verify_chain

from .conftest import execute, record_events, triggers_lifted

pytestmark = pytest.mark.django_db

EVENT_COLUMNS = [
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
]


def verify_command(*args: str) -> tuple[int, str]:
    out, err = StringIO(), StringIO()
    try:
        call_command("verify_audit", *args, stdout=out, stderr=err)
    except SystemExit as exit_:
        return int(exit_.code), err.getvalue()
    return 0, out.getvalue()


def altered(value):
    """One byte (or the smallest unit) of a stored value, changed."""
    if value is None:
        return 1
    if isinstance(value, int):
        return value + 1
    if isinstance(value, bytes | memoryview):
        raw = bytearray(bytes(value))
        raw[0] ^= 0x01
        return bytes(raw)
    if isinstance(value, datetime.datetime):
        return value + datetime.timedelta(microseconds=1)
    text = str(value)
    return chr(ord(text[0]) ^ 1) + text[1:]


def test_intact_chain_verifies_with_summary():
    # given
    record_events(25)
    checkpoint_create()

    # when
    code, output = verify_command()

    # then
    assert code == 0
    assert output.startswith("OK: 25 events, 1 checkpoints")
    assert "events/s" in output


def test_empty_chain_verifies():
    assert verify_command()[0] == 0


@pytest.mark.parametrize("column", EVENT_COLUMNS)
def test_altering_any_column_is_detected(column):
    # given
    record_events(6, actor=User.objects.create_user(username="ana"), organization_id="org-1")
    (value,) = execute(f"SELECT {column} FROM audit_auditevent WHERE sequence = 4")[0]  # noqa: S608

    # when
    with triggers_lifted():
        execute(
            f"UPDATE audit_auditevent SET {column} = %s WHERE sequence = 4",  # noqa: S608
            [altered(value)],
        )

    # then
    code, message = verify_command()
    assert code == EXIT_CODES["altered"]
    assert "altered at sequence 4" in message
    problem = verify_chain().problem
    assert (problem.kind, problem.sequence) == ("altered", 4)


def test_rewritten_and_rehashed_chain_is_caught_by_a_checkpoint():
    # given: an attacker rewrites #2 and recomputes every later hash consistently
    from audit.crypto import chain_hash, event_canonical_bytes
    from audit.verification import EVENT_COLUMNS as COLUMNS

    record_events(4)
    checkpoint_create()
    select = ", ".join(COLUMNS)
    rows = execute(f"SELECT {select} FROM audit_auditevent ORDER BY sequence")  # noqa: S608

    # when
    with triggers_lifted():
        prev = rows[0][12]
        for row in rows[1:]:
            row = list(row)
            if row[0] == 2:
                row[6] = "referral.forged"
            if isinstance(row[1], str):  # SQLite hands back text for raw queries
                row[1] = datetime.datetime.fromisoformat(row[1]).replace(tzinfo=datetime.UTC)
            new_hash = chain_hash(prev, event_canonical_bytes(*row[:11]))
            execute(
                "UPDATE audit_auditevent SET target_label = %s, prev_hash = %s, hash = %s "
                "WHERE sequence = %s",
                [row[6], prev, new_hash, row[0]],
            )
            prev = new_hash

    # then
    code, message = verify_command()
    assert code == EXIT_CODES["altered"]
    assert "at sequence 4" in message and "signed checkpoint" in message


def test_deleted_event_is_a_gap():
    # given
    record_events(6)

    # when
    with triggers_lifted():
        execute("DELETE FROM audit_auditevent WHERE sequence = 3")

    # then
    code, message = verify_command()
    assert code == EXIT_CODES["missing"]
    assert "missing at sequence 3" in message


def test_first_event_deleted_is_a_gap():
    record_events(3)
    with triggers_lifted():
        execute("DELETE FROM audit_auditevent WHERE sequence = 1")
    problem = verify_chain().problem
    assert (problem.kind, problem.sequence) == ("missing", 1)


@pytest.mark.parametrize(("first", "second"), [(2, 5), (3, 4), (2, 6)])
def test_swapped_events_are_reordered(first, second):
    # given
    record_events(6)

    # when: the two rows trade places (sequence numbers)
    with triggers_lifted():
        execute("UPDATE audit_auditevent SET sequence = -1 WHERE sequence = %s", [first])
        execute("UPDATE audit_auditevent SET sequence = %s WHERE sequence = %s", [first, second])
        execute("UPDATE audit_auditevent SET sequence = %s WHERE sequence = -1", [second])

    # then
    code, message = verify_command()
    assert code == EXIT_CODES["reordered"], message
    assert f"reordered at sequence {first}" in message
    assert f"written as #{second}" in message


def test_deleting_the_newest_events_after_a_checkpoint_is_a_truncated_tail():
    # given
    record_events(8)
    checkpoint_create()

    # when: the attacker also winds the (updatable) head back
    with triggers_lifted():
        execute("DELETE FROM audit_auditevent WHERE sequence > 5")
    execute("UPDATE audit_auditchainhead SET last_sequence = 5")

    # then
    code, message = verify_command()
    assert code == EXIT_CODES["truncated"]
    assert "truncated at sequence 6" in message


def test_tail_deleted_behind_the_head_is_truncated_without_checkpoint():
    record_events(4)
    with triggers_lifted():
        execute("DELETE FROM audit_auditevent WHERE sequence = 4")
    problem = verify_chain().problem
    assert (problem.kind, problem.sequence) == ("truncated", 4)


def test_forged_checkpoint_is_a_bad_signature():
    # given
    record_events(5)
    genuine = checkpoint_create()
    forged_signature = bytes(64)

    # when
    AuditCheckpoint.objects.create(
        sequence=5,
        hash=genuine.hash,
        time=genuine.time,
        key_id=genuine.key_id,
        signature=forged_signature,
    )

    # then
    code, message = verify_command()
    assert code == EXIT_CODES["bad_signature"]
    assert "bad signature at sequence 5" in message


def test_altered_checkpoint_is_a_bad_signature():
    record_events(3)
    checkpoint_create()
    with triggers_lifted():
        execute("UPDATE audit_auditcheckpoint SET hash = %s", ["0" * 64])
    problem = verify_chain().problem
    assert (problem.kind, problem.sequence) == ("bad_signature", 3)


def test_outside_checkpoints_catch_a_truncation_hidden_from_the_database(tmp_path):
    # given: an outside party kept the checkpoints and verify keys
    record_events(6)
    checkpoint_create()
    kept = tmp_path / "checkpoints.jsonl"
    keys = tmp_path / "verify-keys.jsonl"
    out = StringIO()
    call_command("export_checkpoints", stdout=out)
    kept.write_text(out.getvalue())
    out = StringIO()
    call_command("export_verify_key", stdout=out)
    keys.write_text(out.getvalue())
    assert json.loads(keys.read_text().splitlines()[0])["pem"].startswith("-----BEGIN PUBLIC")

    # when: the tail, its checkpoint and the head are all wound back
    with triggers_lifted():
        execute("DELETE FROM audit_auditevent WHERE sequence > 4")
        execute("DELETE FROM audit_auditcheckpoint")
    execute("UPDATE audit_auditchainhead SET last_sequence = 4")

    # then
    assert verify_command()[0] == 0
    code, message = verify_command("--from-checkpoint", str(kept), "--verify-key", str(keys))
    assert code == EXIT_CODES["truncated"]
    assert "truncated at sequence 5" in message


def test_progress_bar_goes_to_stderr():
    record_events(3)
    err = StringIO()
    call_command("verify_audit", "--progress", stdout=StringIO(), stderr=err)
    assert "3/3 (100%)" in err.getvalue()


@pytest.mark.parametrize("table", ["audit_auditevent", "audit_auditcheckpoint"])
@pytest.mark.parametrize("statement", ["UPDATE {table} SET hash = 'x'", "DELETE FROM {table}"])
def test_raw_update_and_delete_are_refused(table, statement):
    # given
    record_events(2)
    checkpoint_create()

    # when / then
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        execute(statement.format(table=table))


def test_truncate_is_refused_on_postgresql(postgres_only):
    record_events(1)
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        execute("TRUNCATE audit_auditevent")


def test_triggers_are_back_after_tampering():
    record_events(1)
    with triggers_lifted():
        pass
    with pytest.raises(DatabaseError), transaction.atomic():
        execute("DELETE FROM audit_auditevent")
    assert connection.vendor in {"sqlite", "postgresql"}


# The walk reads and checks the chain in batches (``--chunk-size``): problems on either side
# of a batch boundary, and in later batches, are named as exactly as in the first one.
BATCH = 4  # 14 events: batches #1-4, #5-8, #9-12, #13-14


def walk_in_batches(*args: str) -> tuple[int, str]:
    return verify_command("--chunk-size", str(BATCH), *args)


def test_stored_chain_hashes_are_the_writers_hashes():
    # given: events with every kind of value the writer stores (no actor and a user actor,
    # no organisation, non-ASCII text, a time on a whole second)
    import time_machine

    from audit.crypto import chain_hash, event_canonical_bytes, stored_chain_hashes
    from audit.models import AuditEvent
    from audit.services import audit_record

    record_events(2, organization_id="org-1")
    record_events(2, actor=User.objects.create_user(username="zoë-名前"), marker="ünï")
    with time_machine.travel(datetime.datetime(2025, 3, 1, 12, 0, tzinfo=datetime.UTC), tick=False):
        audit_record(actor=None, action="create", target=None, data={})
    assert AuditEvent.objects.get(sequence=5).time.microsecond == 0

    # when: the rows as the verifier reads them
    from audit.verification import _event_batches

    with _event_batches(100) as batches:
        rows = [row for batch in batches for row in batch]

    # then
    assert len(rows) == 5
    assert stored_chain_hashes(rows) == [row[12] for row in rows]
    assert stored_chain_hashes(rows) == [
        chain_hash(row[11], event_canonical_bytes(*row[:11])) for row in rows
    ]


def test_intact_chain_verifies_over_many_batches_with_progress_per_batch():
    # given
    record_events(14)
    checkpoint_create()
    seen = []

    # when
    result = verify_chain(chunk_size=BATCH, progress=lambda done, total: seen.append(done))

    # then
    assert result.ok, result.problem
    assert (result.events, result.last_sequence) == (14, 14)
    assert seen == [4, 8, 12, 14]
    assert walk_in_batches()[0] == 0


@pytest.mark.parametrize("sequence", [1, 4, 5, 8, 9, 13, 14])
def test_altered_event_in_any_batch_is_named_exactly(sequence):
    # given
    record_events(14)

    # when
    with triggers_lifted():
        execute(
            "UPDATE audit_auditevent SET target_label = 'referral.forged' WHERE sequence = %s",
            [sequence],
        )

    # then
    code, message = walk_in_batches()
    assert code == EXIT_CODES["altered"]
    assert f"altered at sequence {sequence}:" in message
    problem = verify_chain(chunk_size=BATCH).problem
    assert (problem.kind, problem.sequence) == ("altered", sequence)


@pytest.mark.parametrize("column", ["prev_hash", "hash"])
@pytest.mark.parametrize("sequence", [8, 9])
def test_altered_hash_columns_at_a_batch_boundary_are_named_exactly(column, sequence):
    record_events(14)
    (value,) = execute(f"SELECT {column} FROM audit_auditevent WHERE sequence = %s", [sequence])[0]  # noqa: S608
    with triggers_lifted():
        execute(
            f"UPDATE audit_auditevent SET {column} = %s WHERE sequence = %s",  # noqa: S608
            [altered(value), sequence],
        )
    problem = verify_chain(chunk_size=BATCH).problem
    assert (problem.kind, problem.sequence) == ("altered", sequence)


@pytest.mark.parametrize("sequence", [4, 5, 9, 13])
def test_deleted_event_at_a_batch_boundary_is_a_gap(sequence):
    # given
    record_events(14)

    # when
    with triggers_lifted():
        execute("DELETE FROM audit_auditevent WHERE sequence = %s", [sequence])

    # then
    code, message = walk_in_batches()
    assert code == EXIT_CODES["missing"]
    assert f"missing at sequence {sequence}:" in message
    assert f"jumps from #{sequence - 1} to #{sequence + 1}" in message


@pytest.mark.parametrize(("first", "second"), [(4, 5), (3, 6), (8, 13)])
def test_events_swapped_across_batches_are_reordered(first, second):
    # given
    record_events(14)

    # when
    with triggers_lifted():
        execute("UPDATE audit_auditevent SET sequence = -1 WHERE sequence = %s", [first])
        execute("UPDATE audit_auditevent SET sequence = %s WHERE sequence = %s", [first, second])
        execute("UPDATE audit_auditevent SET sequence = %s WHERE sequence = -1", [second])

    # then: classified (with queries of its own) after the batches stopped
    code, message = walk_in_batches()
    assert code == EXIT_CODES["reordered"], message
    assert f"reordered at sequence {first}:" in message
    assert f"written as #{second}" in message


@pytest.mark.parametrize("sequence", [8, 9])
def test_event_rewritten_and_rehashed_alone_at_a_batch_boundary_is_altered(sequence):
    # given: the attacker rewrites one event and its own hash, leaving its successor alone
    from audit.crypto import chain_hash, event_canonical_bytes
    from audit.verification import EVENT_COLUMNS as COLUMNS

    record_events(14)
    select = ", ".join(COLUMNS)
    row = list(
        execute(f"SELECT {select} FROM audit_auditevent WHERE sequence = %s", [sequence])[0]  # noqa: S608
    )
    row[6] = "referral.forged"
    if isinstance(row[1], str):
        row[1] = datetime.datetime.fromisoformat(row[1]).replace(tzinfo=datetime.UTC)

    # when
    with triggers_lifted():
        execute(
            "UPDATE audit_auditevent SET target_label = %s, hash = %s WHERE sequence = %s",
            [row[6], chain_hash(row[11], event_canonical_bytes(*row[:11])), sequence],
        )

    # then: the event itself chains; its successor (in the next batch for #8) names it
    code, message = walk_in_batches()
    assert code == EXIT_CODES["altered"]
    assert f"altered at sequence {sequence}: event #{sequence + 1} records a different" in message


def test_rewritten_chain_is_caught_by_a_checkpoint_in_a_later_batch():
    # given: a checkpoint at #10 (in the third batch), then more events
    from audit.crypto import chain_hash, event_canonical_bytes
    from audit.verification import EVENT_COLUMNS as COLUMNS

    record_events(10)
    checkpoint_create()
    record_events(4)
    select = ", ".join(COLUMNS)
    rows = execute(f"SELECT {select} FROM audit_auditevent ORDER BY sequence")  # noqa: S608

    # when: #6 is rewritten and every later hash recomputed consistently
    with triggers_lifted():
        prev = rows[4][12]
        for row in rows[5:]:
            row = list(row)
            if row[0] == 6:
                row[6] = "referral.forged"
            if isinstance(row[1], str):
                row[1] = datetime.datetime.fromisoformat(row[1]).replace(tzinfo=datetime.UTC)
            new_hash = chain_hash(prev, event_canonical_bytes(*row[:11]))
            execute(
                "UPDATE audit_auditevent SET target_label = %s, prev_hash = %s, hash = %s "
                "WHERE sequence = %s",
                [row[6], prev, new_hash, row[0]],
            )
            prev = new_hash

    # then
    code, message = walk_in_batches()
    assert code == EXIT_CODES["altered"]
    assert "altered at sequence 10:" in message and "signed checkpoint" in message


def test_stopping_early_leaves_no_reader_and_the_connection_usable():
    import threading

    record_events(14)
    with triggers_lifted():
        execute("DELETE FROM audit_auditevent WHERE sequence = 6")

    problem = verify_chain(chunk_size=1).problem

    assert (problem.kind, problem.sequence) == ("missing", 6)
    assert not [t for t in threading.enumerate() if t.name == "verify_audit-reader"]
    assert execute("SELECT count(*) FROM audit_auditevent") == [(13,)]


def test_time_moved_before_year_one_is_altered_on_postgresql(postgres_only):
    # to_char prints the year of a BC time like the AD one; the verifier must not take
    # "2025 BC" for the 2025 that was hashed.
    record_events(4)
    with triggers_lifted():
        execute(
            "UPDATE audit_auditevent SET time = (to_char(time AT TIME ZONE 'UTC', "
            "'YYYY-MM-DD HH24:MI:SS.US') || ' BC')::timestamp AT TIME ZONE 'UTC' "
            "WHERE sequence = 3"
        )
    problem = verify_chain(chunk_size=BATCH).problem
    assert (problem.kind, problem.sequence) == ("altered", 3)


def test_stored_time_text_with_another_separator_is_altered_on_sqlite():
    # SQLite keeps the time as text; one that Django would not read back is a change too.
    if connection.vendor != "sqlite":
        pytest.skip("SQLite stores the time as text")
    record_events(4)
    with triggers_lifted():
        execute("UPDATE audit_auditevent SET time = replace(time, ' ', 'T') WHERE sequence = 3")
    problem = verify_chain(chunk_size=BATCH).problem
    assert (problem.kind, problem.sequence) == ("altered", 3)


@pytest.mark.django_db(transaction=True)
def test_postgresql_rows_stream_from_a_cursor_the_server_does_not_copy(postgres_only):
    # Outside a transaction Django declares chunked cursors WITH HOLD, and PostgreSQL then
    # copies the whole result before the first row; the walk opens a transaction instead.
    from audit.verification import _event_batches

    record_events(6)
    assert connection.get_autocommit()

    with _event_batches(2) as batches:
        first = next(batches)
        cursors = execute("SELECT is_holdable FROM pg_cursors")
        rest = [row for batch in batches for row in batch]

    assert [row[0] for row in first + rest] == [1, 2, 3, 4, 5, 6]
    assert cursors == [(False,)]
