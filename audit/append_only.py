"""Database triggers that make the audit tables append-only.

PostgreSQL: a plpgsql function raising an exception on UPDATE, DELETE and TRUNCATE.
SQLite: ``BEFORE UPDATE/DELETE`` triggers with ``RAISE(ABORT, ...)``. Someone with DDL
rights can still drop them; signed checkpoints catch what that person then changes.
"""

from __future__ import annotations

from typing import Any

APPEND_ONLY_TABLES = ("audit_auditevent", "audit_auditcheckpoint")

_PG_FUNCTION = """
CREATE OR REPLACE FUNCTION audit_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION USING
        MESSAGE = 'audit table ' || TG_TABLE_NAME || ' is append-only: ' || TG_OP || ' refused',
        ERRCODE = 'restrict_violation';
END;
$$;
"""


def install_sql(vendor: str) -> list[str]:
    if vendor == "postgresql":
        statements = [_PG_FUNCTION]
        for table in APPEND_ONLY_TABLES:
            statements += [
                f"DROP TRIGGER IF EXISTS {table}_append_only ON {table};",
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                f"FOR EACH ROW EXECUTE FUNCTION audit_refuse_change();",
                f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table};",
                f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                f"FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change();",
            ]
        return statements
    if vendor == "sqlite":
        return [
            f"CREATE TRIGGER IF NOT EXISTS {table}_no_{operation.lower()} "
            f"BEFORE {operation} ON {table} "
            f"BEGIN SELECT RAISE(ABORT, '{table} is append-only: {operation} refused'); END;"
            for table in APPEND_ONLY_TABLES
            for operation in ("UPDATE", "DELETE")
        ]
    return []


def remove_sql(vendor: str) -> list[str]:
    if vendor == "postgresql":
        return [
            f"DROP TRIGGER IF EXISTS {table}_{name} ON {table};"
            for table in APPEND_ONLY_TABLES
            for name in ("append_only", "no_truncate")
        ]
    if vendor == "sqlite":
        return [
            f"DROP TRIGGER IF EXISTS {table}_no_{operation};"
            for table in APPEND_ONLY_TABLES
            for operation in ("update", "delete")
        ]
    return []


# SQLite: the head row follows every insert inside the engine, so an append is one statement.
SQLITE_HEAD_TRIGGER = """
CREATE TRIGGER IF NOT EXISTS audit_auditevent_advance_head AFTER INSERT ON audit_auditevent
BEGIN
    UPDATE audit_auditchainhead
    SET last_sequence = NEW.sequence, previous_hash = NEW.prev_hash, last_hash = NEW.hash
    WHERE id = 1;
END;
"""


def install(connection: Any) -> None:
    with connection.cursor() as cursor:
        for statement in install_sql(connection.vendor):
            cursor.execute(statement)


def remove(connection: Any) -> None:
    with connection.cursor() as cursor:
        for statement in remove_sql(connection.vendor):
            cursor.execute(statement)
