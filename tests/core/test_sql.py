"""Statements written once (``core.sql``): an insert writes what ``save()`` writes, a select
reads what the ORM reads, and a model whose save is more than its INSERT is saved by the ORM."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.contrib.auth import get_user_model
from django.db.models.signals import post_save

from core.models import IdempotencyRecord, OutboxMessage
from core.sql import Select, insert

pytestmark = pytest.mark.django_db

AT = datetime(2025, 6, 1, 12, 0, 0, 123456, tzinfo=UTC)


def _fields(instance) -> dict:
    return {f.attname: getattr(instance, f.attname) for f in type(instance)._meta.concrete_fields}


def test_an_insert_writes_the_row_save_writes_and_reads_back_its_id():
    # given
    values = {
        "handler": "tests.core.sql",
        "args": [1, "two", {"three": None}],
        "kwargs": {"ü": [True]},
        "created_at": AT,
        "available_at": AT,
    }
    # when
    inserted = insert(OutboxMessage(**values))
    saved = OutboxMessage(**values)
    saved.save(force_insert=True)
    # then
    assert inserted.pk is not None and inserted.pk != saved.pk
    assert not inserted._state.adding
    stored = OutboxMessage.objects.get(pk=inserted.pk)
    assert _fields(stored) | {"id": None} == _fields(OutboxMessage.objects.get(pk=saved.pk)) | {
        "id": None
    }
    assert _fields(stored) == _fields(inserted)


def test_an_insert_stamps_auto_now_add_and_keeps_binary_values():
    user = get_user_model().objects.create_user("sql-insert")
    record = insert(
        IdempotencyRecord(
            user=user,
            key="k",
            method="POST",
            path="/x/",
            request_fingerprint="f",
            response_sealed=b"\x00\xffsealed",
        )
    )
    assert record.created_at is not None
    stored = IdempotencyRecord.objects.get(pk=record.pk)
    assert stored.created_at == record.created_at
    assert bytes(stored.response_sealed) == b"\x00\xffsealed"


def test_a_model_with_save_receivers_is_saved_by_the_orm():
    heard = []

    def receiver(sender, instance, created, **kwargs):
        heard.append((instance.handler, created))

    post_save.connect(receiver, sender=OutboxMessage)
    try:
        insert(OutboxMessage(handler="tests.core.heard", created_at=AT, available_at=AT))
    finally:
        post_save.disconnect(receiver, sender=OutboxMessage)
    assert heard == [("tests.core.heard", True)]


def test_a_select_reads_the_row_and_its_related_row_as_the_orm_does(django_assert_num_queries):
    # given
    user = get_user_model().objects.create_user("sql-select", email="s@example.invalid")
    record = IdempotencyRecord.objects.create(
        user=user, key="k", method="POST", path="/y/", request_fingerprint="f", response_status=201
    )
    select = Select(
        IdempotencyRecord,
        related=["user"],
        where=lambda column, qn: f"{column('user')} = %s AND {column('key')} = %s",
        params=[
            IdempotencyRecord._meta.get_field("user"),
            IdempotencyRecord._meta.get_field("key"),
        ],
    )
    orm = IdempotencyRecord.objects.select_related("user").get(pk=record.pk)
    # when
    with django_assert_num_queries(1):
        read = select.one(user.pk, "k")
        # then: the same values, converted alike (aware times, ints), the user in hand
        assert _fields(read) == _fields(orm)
        assert _fields(read.user) == _fields(orm.user)
    assert read.created_at.tzinfo is not None
    assert not read._state.adding
    assert select.one(user.pk, "other") is None
