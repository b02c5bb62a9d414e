"""Statements written once from the models' metadata, for the few reads and writes that a
hot path makes on every request (a referral create makes a dozen).

Building a statement through the ORM costs several times running it: a primary-key SELECT
runs in about 20 µs on SQLite and takes about 250 µs to build, compile and turn back into
an instance. ``Select`` and ``insert`` build their SQL once per model and database vendor
and do per row only what the ORM would do with the values: prepare the parameters, apply
the database's and the fields' converters to what comes back, and make the instances with
``Model.from_db``. Anything unusual (a model with save signals, a field with a database
default or an expression for a value) goes through the ORM as before.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connections, router, transaction
from django.db.models import Field, Model, Value, signals

# ``column(name)`` is the quoted "table"."column" of a field of the selected model;
# ``qn`` quotes any name. A statement part is written with them once per vendor.
Writer = Callable[[Callable[[str], str], Callable[[str], str]], str]


@dataclass(frozen=True)
class _Part:
    """Where one model's columns sit in a row, and how each is converted."""

    model: type[Model]
    start: int
    stop: int
    converters: tuple[tuple[int, tuple, Any], ...]
    field: Field | None  # the foreign key that brings it (None: the selected model)
    pk_at: int  # where its primary key sits among its columns


@dataclass(frozen=True)
class _Prepared:
    sql: str
    parts: tuple[_Part, ...]
    extra: tuple[tuple[str, int, tuple, Any], ...]


def _converters(connection, expression) -> tuple:
    return tuple(
        connection.ops.get_db_converters(expression) + expression.get_db_converters(connection)
    )


class Select:
    """``SELECT`` rows of ``model`` (with the rows its foreign keys in ``related`` point to,
    joined as ``select_related`` joins them) ``WHERE`` the condition ``where`` writes, as
    instances with those related instances cached on them: ``one`` (or None), ``all``.

    ``extra`` adds computed columns, set on each instance as attributes: ``(name, writer,
    field of the value's type)``. ``order`` writes the ORDER BY list. ``params`` are the
    fields whose types the statement's ``%s`` take, in the statement's order (those of
    ``extra`` first, then those of ``where``); values are prepared for the database as a
    filter on that field would prepare them.
    """

    def __init__(
        self,
        model: type[Model],
        *,
        where: Writer,
        params: Sequence[Field],
        related: Sequence[str] = (),
        extra: Sequence[tuple[str, Writer, Field]] = (),
        order: Writer | None = None,
    ) -> None:
        self.model = model
        self.where = where
        self.params = tuple(params)
        self.related = tuple(related)
        self.extra = tuple(extra)
        self.order = order
        self._prepared: dict[str, _Prepared] = {}

    def _prepare(self, connection) -> _Prepared:
        qn = connection.ops.quote_name
        meta = self.model._meta
        table = meta.db_table

        def column(name: str) -> str:
            return f"{qn(table)}.{qn(meta.get_field(name).column)}"

        columns: list[str] = []
        parts: list[_Part] = []
        joins: list[str] = []

        def add(model, alias, field) -> None:
            start = len(columns)
            converters = []
            for position, concrete in enumerate(model._meta.concrete_fields):
                columns.append(f"{qn(alias)}.{qn(concrete.column)}")
                expression = concrete.get_col(alias)
                found = _converters(connection, expression)
                if found:
                    converters.append((start + position, found, expression))
            pk_at = model._meta.concrete_fields.index(model._meta.pk)
            parts.append(_Part(model, start, len(columns), tuple(converters), field, pk_at))

        add(self.model, table, None)
        for number, name in enumerate(self.related, start=1):
            field = meta.get_field(name)
            target = field.related_model
            alias = f"r{number}"
            kind = "LEFT OUTER JOIN" if field.null else "INNER JOIN"
            joins.append(
                f"{kind} {qn(target._meta.db_table)} {qn(alias)} ON "
                f"{qn(alias)}.{qn(field.target_field.column)} = {qn(table)}.{qn(field.column)}"
            )
            add(target, alias, field)
        extra = []
        for name, writer, field in self.extra:
            expression = Value(None, output_field=field)  # the value's type, for converters
            extra.append((name, len(columns), _converters(connection, expression), expression))
            columns.append(f"({writer(column, qn)}) AS {qn(name)}")
        sql = " ".join(
            [
                f"SELECT {', '.join(columns)} FROM {qn(table)}",  # noqa: S608 - names, no values
                *joins,
                f"WHERE {self.where(column, qn)}",
                *([f"ORDER BY {self.order(column, qn)}"] if self.order else []),
            ]
        )
        return _Prepared(sql, tuple(parts), tuple(extra))

    def _execute(self, values, using, fetch):
        alias = using or router.db_for_read(self.model)
        connection = connections[alias]
        prepared = self._prepared.get(connection.vendor)
        if prepared is None:
            prepared = self._prepared[connection.vendor] = self._prepare(connection)
        params = [
            field.get_db_prep_value(value, connection, prepared=False)
            for field, value in zip(self.params, values, strict=True)
        ]
        with connection.cursor() as cursor:
            cursor.execute(prepared.sql, params)
            rows = fetch(cursor)
        return [self._instance(alias, connection, prepared, row) for row in rows]

    def one(self, *values: Any, using: str | None = None) -> Model | None:
        found = self._execute(values, using, lambda cursor: cursor.fetchmany(1))
        return found[0] if found else None

    def all(self, *values: Any, using: str | None = None) -> list[Model]:
        return self._execute(values, using, lambda cursor: cursor.fetchall())

    @staticmethod
    def _instance(alias, connection, prepared: _Prepared, row) -> Model:
        row = list(row)
        for part in prepared.parts:
            for position, converters, expression in part.converters:
                for converter in converters:
                    row[position] = converter(row[position], expression, connection)
        for _name, position, converters, expression in prepared.extra:
            for converter in converters:
                row[position] = converter(row[position], expression, connection)
        main, *joined = prepared.parts
        instance = main.model.from_db(alias, None, row[main.start : main.stop])
        for part in joined:
            values_of = row[part.start : part.stop]
            related = None
            if values_of[part.pk_at] is not None:  # an outer join that found nothing
                related = part.model.from_db(alias, None, values_of)
            part.field.set_cached_value(instance, related)
            if related is not None and part.field.unique:
                part.field.remote_field.set_cached_value(related, instance)
        for name, position, _converters_of, _expression in prepared.extra:
            setattr(instance, name, row[position])
        return instance


@dataclass(frozen=True)
class _Insert:
    sql: str
    fields: tuple[Field, ...]
    returns_pk: bool


_inserts: dict[tuple[type[Model], str, bool], _Insert] = {}


def _plain(model: type[Model]) -> bool:
    """Whether ``save(force_insert=True)`` of this model is only its INSERT."""
    meta = model._meta
    return (
        model.save is Model.save
        and not meta.parents
        and not signals.pre_save.has_listeners(model)
        and not signals.post_save.has_listeners(model)
        and not any(
            getattr(f, "generated", False) or f.has_db_default() for f in meta.concrete_fields
        )
    )


def insert(instance: Model, *, using: str | None = None) -> Model:
    """INSERT a new instance as ``instance.save(force_insert=True)`` would: every field's
    ``pre_save`` applied (``auto_now_add`` stamps), values prepared as the ORM prepares
    them, an auto primary key read back. The statement is built once per model and vendor.
    A model whose save is more than its INSERT (its own ``save``, save signals, database
    defaults) is saved by the ORM."""
    model = type(instance)
    alias = using or router.db_for_write(model, instance=instance)
    if not _plain(model):
        instance.save(force_insert=True, using=alias)
        return instance
    connection = connections[alias]
    meta = model._meta
    auto_pk = meta.pk.attname if getattr(meta, "auto_field", None) is meta.pk else None
    returns_pk = auto_pk is not None and getattr(instance, auto_pk) is None
    key = (model, connection.vendor, returns_pk)
    statement = _inserts.get(key)
    if statement is None:
        statement = _inserts[key] = _insert_statement(connection, model, returns_pk)
    instance._prepare_related_fields_for_save(operation_name="save")
    params = []
    for field in statement.fields:
        value = field.pre_save(instance, True)
        if hasattr(value, "resolve_expression"):  # an expression: the ORM compiles it
            instance.save(force_insert=True, using=alias)
            return instance
        params.append(field.get_db_prep_save(value, connection))
    with transaction.mark_for_rollback_on_error(alias), connection.cursor() as cursor:
        cursor.execute(statement.sql, params)
        if statement.returns_pk:
            if connection.features.can_return_columns_from_insert:
                pk = cursor.fetchone()[0]
            else:
                pk = connection.ops.last_insert_id(cursor, meta.db_table, meta.pk.column)
            expression = meta.pk.get_col(meta.db_table)
            for converter in _converters(connection, expression):
                pk = converter(pk, expression, connection)
            setattr(instance, auto_pk, pk)
    instance._state.adding = False
    instance._state.db = alias
    return instance


def _insert_statement(connection, model: type[Model], returns_pk: bool) -> _Insert:
    qn = connection.ops.quote_name
    meta = model._meta
    fields = tuple(f for f in meta.concrete_fields if not (returns_pk and f is meta.pk))
    sql = (
        f"INSERT INTO {qn(meta.db_table)} ({', '.join(qn(f.column) for f in fields)}) "  # noqa: S608
        f"VALUES ({', '.join(['%s'] * len(fields))})"
    )
    if returns_pk and connection.features.can_return_columns_from_insert:
        returning, _ = connection.ops.return_insert_columns([meta.pk])
        sql = f"{sql} {returning}"
    return _Insert(sql, fields, returns_pk)
