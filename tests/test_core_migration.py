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

    from core.models import IdempotencyRecord

    assert IdempotencyRecord._meta.db_table == "core_idempotencyrecord"
    moved = IdempotencyRecord.objects.get(key="k-1")
    assert (moved.user_id, moved.response_status, moved.response_body) == (user.pk, 201, {"id": 1})
    assert "services_directory_idempotencyrecord" not in connection.introspection.table_names()
