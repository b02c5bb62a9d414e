"""Free text about a person never reaches the database in plain text (a referral reason, an
event reason, a clinical note, a note posted with an Idempotency-Key), and after
``erase_person`` none of it can be read back by any path while the audit chain verifies.

Checked on the bytes the database keeps: the SQLite file (and its WAL), or a ``pg_dump`` of
the PostgreSQL test database."""

from __future__ import annotations

import subprocess
import uuid
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection

from tests.factories import care_world, consent_create_for, person_create_for

pytestmark = pytest.mark.django_db(transaction=True)

CONTROL = "pseudonym-in-clear"


def write_markers(client_for):
    """A referral for a person, with a marker in every kind of free text, through the API."""
    world = care_world()
    tag = uuid.uuid4().hex[:16]
    markers = {
        "referral_reason": f"ZQXREASON{tag}",
        "event_reason": f"ZQXEVENT{tag}",
        "note": f"ZQXNOTE{tag}",
        "idempotent_note": f"ZQXIDEMNOTE{tag}",
        "withdrawal_note": f"ZQXWITHDRAW{tag}",
    }
    person = person_create_for(world.officer, display_name=CONTROL, given_name="Jan")
    consent_create_for(world.officer, person, recipients=[world.clinic])
    officer, provider = client_for(world.officer), client_for(world.provider)
    created = officer.post(
        "/api/v1/referrals/",
        {
            "to_service": str(world.treatment.pk),
            "pathway": "officer_intervention",
            "person": str(person.pk),
            "reason": markers["referral_reason"],
        },
        format="json",
    )
    assert created.status_code == 201, created.json()
    rid = created.json()["id"]
    moved = provider.post(
        f"/api/v1/referrals/{rid}/transition/",
        {"to": "accepted", "reason": markers["event_reason"]},
        format="json",
    )
    assert moved.status_code == 200
    assert (
        provider.post(
            f"/api/v1/referrals/{rid}/notes/", {"text": markers["note"]}, format="json"
        ).status_code
        == 201
    )
    key = str(uuid.uuid4())
    posted = provider.post(
        f"/api/v1/referrals/{rid}/notes/",
        {"text": markers["idempotent_note"]},
        format="json",
        HTTP_IDEMPOTENCY_KEY=key,
    )
    assert posted.status_code == 201
    assert posted.json()["text"] == markers["idempotent_note"]
    withdrawn = officer.post(
        f"/api/v1/referrals/{rid}/transition/",
        {
            "to": "withdrawn",
            "reason_code": "referred_elsewhere",
            "reason": markers["withdrawal_note"],
        },
        format="json",
    )
    assert withdrawn.status_code == 200
    return world, person, rid, key, markers


def database_bytes() -> list[bytes]:
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA wal_checkpoint(FULL)")
        database = Path(connection.settings_dict["NAME"])
        return [p.read_bytes() for p in (database, Path(f"{database}-wal")) if p.exists()]
    settings = connection.settings_dict
    command = [
        "pg_dump",
        "--no-owner",
        "-h",
        settings["HOST"] or "127.0.0.1",
        "-U",
        settings["USER"],
    ]
    if settings["PORT"]:
        command += ["-p", str(settings["PORT"])]
    dump = subprocess.run(  # noqa: S603 - fixed arguments, the test database
        [*command, settings["NAME"]], capture_output=True, check=True, timeout=120
    ).stdout
    return [dump]


def test_no_marker_reaches_the_database_files(client_for):
    # given
    _, _, _, _, markers = write_markers(client_for)

    # when
    contents = database_bytes()

    # then: the control proves the scan sees what was committed
    assert any(CONTROL.encode() in data for data in contents)
    for name, marker in markers.items():
        for data in contents:
            assert marker.encode() not in data, name
            assert marker.encode().hex().encode() not in data, name
            assert marker.encode("utf-16-le") not in data, name


def test_after_erasure_no_path_reads_any_marker_and_the_chain_verifies(client_for, client):
    # given
    world, person, rid, key, markers = write_markers(client_for)

    # when
    call_command("erase_person", str(person.pk), "--yes", stdout=StringIO())

    # then: every API path, for both ends and the coordinator, and the replay of the key
    texts = []
    for user in (world.officer, world.provider, world.coordinator):
        api = client_for(user)
        for suffix in ("", "events/", "fhir/", "notes/"):
            texts.append(api.get(f"/api/v1/referrals/{rid}/{suffix}").content.decode())
        texts.append(api.get("/api/v1/referrals/").content.decode())
        client.force_login(user)
        texts.append(client.get(f"/referrals/{rid}/").content.decode())
    replay = client_for(world.provider).post(
        f"/api/v1/referrals/{rid}/notes/",
        {"text": markers["idempotent_note"]},
        format="json",
        HTTP_IDEMPOTENCY_KEY=key,
    )
    texts.append(replay.content.decode())
    joined = "\n".join(texts)
    for name, marker in markers.items():
        assert marker not in joined, name
    assert replay.status_code == 201
    assert replay.json()["erased"] is True and replay.json()["text"] is None
    notes = client_for(world.provider).get(f"/api/v1/referrals/{rid}/notes/").json()
    assert [n["erased"] for n in notes] == [True, True]
    out = StringIO()
    call_command("verify_audit", stdout=out)
    assert "OK" in out.getvalue() or "ok" in out.getvalue().lower()
