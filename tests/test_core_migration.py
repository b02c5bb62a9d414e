"""Moving IdempotencyRecord into ``core`` renames its table and keeps its rows."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("services_directory", "0004_opening_hours_stage"), ("core", None)]
AFTER = [("services_directory", "0005_move_idempotencyrecord_to_core"), ("core", "0001_initial")]


@pytest.mark.django_db(transaction=True)
def test_moving_the_table_keeps_its_rows(django_user_model):
    user = django_user_model.objects.create(username="phone")
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    try:
        old = executor.loader.project_state(BEFORE[:1]).apps.get_model(
            "services_directory", "IdempotencyRecord"
        )
        old.objects.create(
            user_id=user.pk,
            key="k-1",
            method="POST",
            path="/api/v1/contacts/",
            request_fingerprint="f" * 64,
            state="done",
            response_status=201,
            response_body={"id": 1},
        )
        assert old._meta.db_table == "services_directory_idempotencyrecord"
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(AFTER)

    try:
        IdempotencyRecord = executor.loader.project_state(AFTER).apps.get_model(  # noqa: N806
            "core", "IdempotencyRecord"
        )
        assert IdempotencyRecord._meta.db_table == "core_idempotencyrecord"
        moved = IdempotencyRecord.objects.get(key="k-1")
        assert (moved.user_id, moved.response_status, moved.response_body) == (
            user.pk,
            201,
            {"id": 1},
        )
        assert "services_directory_idempotencyrecord" not in connection.introspection.table_names()
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())


@pytest.mark.django_db(transaction=True)
def test_sealing_answers_drops_the_plaintext_column_and_keeps_the_record(django_user_model):
    """core 0003: the plaintext body goes; a retry of that key replays the status with the
    fallback body (``core.idempotency``), so nothing is written twice."""
    user = django_user_model.objects.create(username="phone-2")
    executor = MigrationExecutor(connection)
    executor.migrate([("core", "0002_outboxmessage")])
    try:
        old = executor.loader.project_state([("core", "0002_outboxmessage")]).apps.get_model(
            "core", "IdempotencyRecord"
        )
        old.objects.create(
            user_id=user.pk,
            key="k-2",
            method="POST",
            path="/api/v1/referrals/x/notes/",
            request_fingerprint="f" * 64,
            state="done",
            response_status=201,
            response_body={"text": "plaintext note"},
        )
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())

    from core.models import IdempotencyRecord

    kept = IdempotencyRecord.objects.get(key="k-2")
    assert (kept.state, kept.response_status, kept.response_sealed) == ("done", 201, None)
    columns = [
        c.name
        for c in connection.introspection.get_table_description(
            connection.cursor(), "core_idempotencyrecord"
        )
    ]
    assert "response_body" not in columns
