"""Identifying data written through the API never reaches the database in plain text: not in
the person's row, the audit trail, the idempotency replay store nor the log."""

from __future__ import annotations

import logging
import uuid
from pathlib import Path

import pytest
from django.db import connection
from rest_framework.test import APIClient

from audit.models import AuditAction, AuditEvent
from tests.factories import care_network

pytestmark = pytest.mark.django_db(transaction=True)

CONTROL = "display-name-in-clear"


def execute(sql: str, params: list | tuple = ()) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall() if cursor.description else []


def write_markers_through_the_api(caplog) -> dict[str, str]:
    """Record, read, change and consent for a person whose identifying fields carry markers."""
    net = care_network()
    tag = uuid.uuid4().hex[:20]
    markers = {
        "given_name": f"ZQXGIVEN{tag}",
        "family_name": f"ZQXFAMILY{tag}",
        "phone": f"ZQX-PHONE-{tag}",
        "notes": f"ZQX-NOTES-{tag}",
        "changed_notes": f"ZQX-CHANGED-{tag}",
    }
    client = APIClient()
    client.force_authenticate(net.volunteer)
    with caplog.at_level(logging.DEBUG):
        created = client.post(
            "/api/v1/people/",
            {
                "display_name": CONTROL,
                "given_name": markers["given_name"],
                "family_name": markers["family_name"],
                "birth_date": "1988-02-29",
                "phone": markers["phone"],
                "notes": markers["notes"],
            },
            format="json",
            HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4()),
        )
        assert created.status_code == 201, created.json()
        url = f"/api/v1/people/{created.json()['id']}/"
        shown = client.get(url)
        assert shown.json()["identity"]["given_name"] == markers["given_name"]
        changed = client.patch(url, {"notes": markers["changed_notes"]}, format="json")
        assert changed.status_code == 200
        consent = client.post(
            f"{url}consents/",
            {
                "recipients": [str(net.clinic.pk)],
                "stages": [],
                "information": "names and phone",
                "purpose": "treatment",
                "method": "electronic",
                "expires_at": None,
                "expires_on_event": None,
            },
            format="json",
            HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4()),
        )
        assert consent.status_code == 201
        search = client.post(
            "/api/v1/people/search/",
            {
                "given_name": markers["given_name"],
                "family_name": markers["family_name"],
                "birth_date": "1988-02-29",
            },
            format="json",
        )
        assert len(search.json()["results"]) == 1
    assert AuditEvent.objects.filter(action=AuditAction.READ).exists()
    logged = "\n".join(r.getMessage() for r in caplog.records)
    for marker in markers.values():
        assert marker not in logged
    return markers


def test_no_identifying_value_reaches_the_sqlite_files(caplog):
    if connection.vendor != "sqlite":
        pytest.skip("SQLite file check; PostgreSQL has its own test")
    # given
    markers = write_markers_through_the_api(caplog)

    # when
    execute("PRAGMA wal_checkpoint(FULL)")
    database = Path(connection.settings_dict["NAME"])
    files = [p for p in (database, Path(f"{database}-wal")) if p.exists()]
    contents = [p.read_bytes() for p in files]

    # then: the control proves the scan sees what was committed
    assert any(CONTROL.encode() in data for data in contents)
    for marker in markers.values():
        for path, data in zip(files, contents, strict=True):
            assert marker.encode() not in data, (marker, path)
            assert marker.encode("utf-16-le") not in data, (marker, path)


def test_no_identifying_value_in_any_postgresql_table(caplog, postgres_only):
    # given
    markers = write_markers_through_the_api(caplog)
    tables = [
        table
        for table in connection.introspection.table_names(include_views=False)
        if not table.startswith("pg_")
    ]
    quote = connection.ops.quote_name

    # when: every row of every table as text (bytea shows as hex)
    def rows_containing(text: str) -> list[str]:
        found = []
        for table in tables:
            hits = execute(
                f"SELECT count(*) FROM {quote(table)} t WHERE t::text LIKE %s "  # noqa: S608
                f"OR t::text LIKE %s",
                [f"%{text}%", f"%{text.encode().hex()}%"],
            )
            if hits[0][0]:
                found.append(table)
        return found

    # then
    assert "referral_person" in rows_containing(CONTROL)
    for marker in markers.values():
        assert rows_containing(marker) == [], marker
