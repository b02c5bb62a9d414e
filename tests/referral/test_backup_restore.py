"""Backup and restore as README's "Operations: backup and restore" says: ``pg_dump`` of the
database, restored with ``pg_restore`` into a new database, the keys supplied apart. The
restored database holds the same rows and its audit chain verifies; with the keys lost the
chain still verifies by hash (encrypted payloads stay unreadable)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from audit.keys import generate_keyring, keyring
from audit.models import AuditEvent
from audit.services import checkpoint_create
from core.models import OutboxMessage
from referral.models import Contact, Person, Referral, ReferralEvent
from referral.services.referrals import referral_transition
from tests.factories import consent_create_for, person_create_for, referral_sent

pytestmark = pytest.mark.postgres


def _pg_args(db: dict) -> list[str]:
    args = ["-h", db.get("HOST") or "127.0.0.1", "-p", str(db.get("PORT") or 5432)]
    if db.get("USER"):
        args += ["-U", db["USER"]]
    return args


def _pg_env(db: dict) -> dict:
    env = {**os.environ}
    if db.get("PASSWORD"):
        env["PGPASSWORD"] = db["PASSWORD"]
    return env


def _url(db: dict, name: str) -> str:
    auth = db.get("USER") or ""
    if db.get("PASSWORD"):
        auth += f":{db['PASSWORD']}"
    return f"postgres://{auth}@{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}/{name}"


def _snapshot(url: str) -> dict:
    """The rows that matter, read over a connection of its own (outside Django's)."""
    import psycopg

    with psycopg.connect(url) as database, database.cursor() as cursor:
        found = {}
        for model, columns in [
            (Referral, "id, status, client_uuid"),
            (ReferralEvent, "id, referral_id, to_status"),
            (Contact, "id, client_uuid, notes_enc"),
            (Person, "id, given_name_enc, family_name_enc, blind_index"),
            (AuditEvent, "sequence, hash, ciphertext"),
            (OutboxMessage, "id, handler, args, delivered_at"),
        ]:
            cursor.execute(f"SELECT {columns} FROM {model._meta.db_table} ORDER BY 1")  # noqa: S608
            found[model.__name__] = [tuple(bytes(v) if isinstance(v, memoryview) else v
                                           for v in row) for row in cursor.fetchall()]  # fmt: skip
    return found


def _verify_audit(db_url: str, keys_json: str, tmp: Path, *extra: str):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": db_url,
        "CONTINUUM_KEYS": keys_json,
        "CONTINUUM_VAR_DIR": str(tmp),
        "CONTINUUM_LOG_LEVEL": "WARNING",
    }
    return subprocess.run(  # noqa: S603 - our interpreter, fixed arguments
        [sys.executable, "manage.py", "verify_audit", *extra],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.django_db(transaction=True)
def test_a_dump_restored_into_a_new_database_has_the_same_rows_and_an_intact_chain(
    postgres_only, world, tmp_path
):
    tool = {name: shutil.which(name) for name in ("pg_dump", "pg_restore", "createdb", "dropdb")}
    if not all(tool.values()):
        pytest.skip(f"PostgreSQL client tools missing: {tool}")
    # given a database with people, consents, referrals, contacts, audit and a checkpoint
    person = person_create_for(world.officer, given_name="Ana", family_name="Kowalski")
    consent_create_for(world.officer, person, recipients=[world.clinic])
    referral = referral_sent(person, sender=world.officer, service=world.treatment)
    referral_transition(referral=referral, actor=world.provider, to="accepted")
    referral_sent(sender=world.officer, service=world.treatment)
    Contact.objects.create(
        client_uuid=uuid.uuid4(),
        organization=world.police,
        occurred_at=referral.created_at,
        pathway="officer_intervention",
        request_fingerprint="f" * 64,
    )
    assert checkpoint_create() is not None
    db = connection.settings_dict
    restored = f"{db['NAME']}_restored_{uuid.uuid4().hex[:6]}"
    dump = tmp_path / "continuum.dump"
    # when: dump, create a new database, restore into it
    subprocess.run(  # noqa: S603 - the PostgreSQL client tools, fixed arguments
        [tool["pg_dump"], *_pg_args(db), "--format=custom", "--file", str(dump), db["NAME"]],
        env=_pg_env(db), check=True, timeout=120,
    )  # fmt: skip
    subprocess.run(  # noqa: S603 - the PostgreSQL client tools, fixed arguments
        [tool["createdb"], *_pg_args(db), restored], env=_pg_env(db), check=True, timeout=60
    )
    try:
        subprocess.run(  # noqa: S603 - the PostgreSQL client tools, fixed arguments
            [tool["pg_restore"], *_pg_args(db), "--no-owner", "--exit-on-error", "-d", restored,
             str(dump)],
            env=_pg_env(db), check=True, timeout=120,
        )  # fmt: skip
        # then the same rows, byte for byte (ciphertexts included)
        original = _snapshot(_url(db, db["NAME"]))
        assert original["Referral"] and original["AuditEvent"] and original["Person"]
        assert _snapshot(_url(db, restored)) == original
        # and the chain verifies against the restored database, keys supplied apart
        keys_json = keyring().to_json()
        verified = _verify_audit(_url(db, restored), keys_json, tmp_path)
        assert verified.returncode == 0, verified.stdout + verified.stderr
        # with the keys lost: the chain still verifies by hash and against the verify keys
        # exported beforehand (export_verify_key); only the payloads are unreadable
        exported = subprocess.run(  # noqa: S603 - the PostgreSQL client tools, fixed arguments
            [sys.executable, "manage.py", "export_verify_key"],
            cwd=settings.BASE_DIR, capture_output=True, text=True, timeout=60, check=True,
            env={**os.environ, "DATABASE_URL": _url(db, restored), "CONTINUUM_KEYS": keys_json,
                 "CONTINUUM_VAR_DIR": str(tmp_path)},
        )  # fmt: skip
        verify_key = tmp_path / "verify-key.jsonl"
        verify_key.write_text(exported.stdout)
        other_keys = generate_keyring().to_json()
        by_hash = _verify_audit(
            _url(db, restored), other_keys, tmp_path, "--verify-key", str(verify_key)
        )
        assert by_hash.returncode == 0, by_hash.stdout + by_hash.stderr
    finally:
        subprocess.run(  # noqa: S603 - the PostgreSQL client tools, fixed arguments
            [tool["dropdb"], *_pg_args(db), "--force", "--if-exists", restored],
            env=_pg_env(db), timeout=60,
        )  # fmt: skip
