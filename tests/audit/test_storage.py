"""What reaches the disk, and what many writers at once leave behind."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from django.contrib.auth.models import Group
from django.db import connection, transaction

from audit.models import AuditEvent
from audit.services import audit_record
from audit.verification import verify_chain

from .conftest import execute

MARKER = "PLAINTEXT-MARKER-7f3a9c"
CONTROL = "CONTROL-IN-CLEAR-1b2c"


@pytest.mark.django_db(transaction=True)
def test_no_plaintext_of_a_payload_reaches_the_sqlite_file():
    if connection.vendor != "sqlite":
        pytest.skip("SQLite file check")
    # given: a control string stored in plain text proves the scan can see
    Group.objects.create(name=CONTROL)
    audit_record(
        actor=None, action="create", target=("referral.person", "1"), data={"notes": MARKER}
    )

    # when
    execute("PRAGMA wal_checkpoint(FULL)")
    database = Path(connection.settings_dict["NAME"])
    files = [database, Path(f"{database}-wal")]

    # then
    assert database.exists()
    assert any(CONTROL.encode() in path.read_bytes() for path in files if path.exists())
    for path in files:
        if path.exists():
            assert MARKER.encode() not in path.read_bytes(), path
    assert AuditEvent.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_no_plaintext_of_a_payload_in_any_postgresql_column(postgres_only):
    # given
    audit_record(
        actor=None, action="create", target=("referral.person", "1"), data={"notes": MARKER}
    )

    # when
    rows = execute(
        "SELECT count(*) FROM audit_auditevent e WHERE e::text LIKE %s "
        "OR position(convert_to(%s, 'UTF8') in e.ciphertext) > 0",
        [f"%{MARKER}%", MARKER],
    )

    # then
    assert rows == [(0,)]
    assert AuditEvent.objects.count() == 1


WRITERS = 8
EVENTS_EACH = 40


@pytest.mark.django_db(transaction=True)
def test_parallel_writers_leave_one_linear_chain():
    """PostgreSQL (row lock on the head) and SQLite (IMMEDIATE transactions) alike."""
    # given
    start = threading.Barrier(WRITERS)
    errors: list[BaseException] = []

    def writer(number: int) -> None:
        try:
            start.wait()
            for index in range(EVENTS_EACH):
                with transaction.atomic():
                    audit_record(
                        actor=None,
                        action="update",
                        target=("test.writer", number),
                        data={"index": index},
                    )
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            errors.append(exc)
        finally:
            connection.close()

    # when
    threads = [threading.Thread(target=writer, args=(n,)) for n in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # then
    assert errors == []
    total = WRITERS * EVENTS_EACH
    rows = list(
        AuditEvent.objects.order_by("sequence").values_list("sequence", "prev_hash", "hash")
    )
    assert [row[0] for row in rows] == list(range(1, total + 1))
    assert all(row[1] == before[2] for before, row in zip(rows, rows[1:], strict=False))
    assert len({row[2] for row in rows}) == total
    result = verify_chain()
    assert result.ok and result.events == total
