"""Audit fixtures: every test gets its own throwaway keyring file, never var/keys.json."""

from __future__ import annotations

import uuid
from contextlib import contextmanager

import pytest
from django.contrib.auth.models import Group, User
from django.db import connection

from audit import database
from audit.keys import generate_keyring, reset_keyring_cache, write_key_file
from audit.models import AuditAction
from audit.services import audit_record


@pytest.fixture(autouse=True)
def audit_keyring(settings, tmp_path):
    settings.CONTINUUM_KEYS = ""
    settings.CONTINUUM_KEY_FILE = tmp_path / "keys.json"
    write_key_file(generate_keyring(), settings.CONTINUUM_KEY_FILE)
    reset_keyring_cache()
    yield settings.CONTINUUM_KEY_FILE
    reset_keyring_cache()


@contextmanager
def triggers_lifted():
    """Tamper like an attacker with DDL rights; the triggers come back afterwards."""
    database.remove(connection)
    try:
        yield
    finally:
        database.install(connection)


def execute(sql: str, params: list | tuple = ()) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall() if cursor.description else []


def record_events(
    count: int, *, actor=None, marker: str = "", organization_id: str | None = None
) -> list:
    return [
        audit_record(
            actor=actor,
            action=AuditAction.UPDATE,
            target=("referral.person", str(number)),
            data={"field": "notes", "value": f"{marker}{number}"},
            organization_id=organization_id,
        )
        for number in range(1, count + 1)
    ]


def member(role: str, *, username: str | None = None):
    """A user with a real services_directory membership (the audit app only duck-types it).

    Rows, not the directory services, on purpose: those services write audit events of their
    own, and these tests count the events of a chain they build themselves."""
    from services_directory.models import Membership, Organization

    username = username or f"{role}-{uuid.uuid4().hex[:8]}"
    group = Group.objects.create(name=f"org-{uuid.uuid4().hex[:8]}")
    organization = Organization.objects.create(
        name=f"Org {group.name}", description="test", kind="ngo", group=group
    )
    user = User.objects.create_user(username=username)
    Membership.objects.create(user=user, organization=organization, role=role)
    return User.objects.select_related("membership").get(pk=user.pk)
