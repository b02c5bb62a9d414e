"""What the audit trail installs in the database (migration 0002).

- Append-only triggers. PostgreSQL: a plpgsql function raising an exception on UPDATE,
  DELETE and TRUNCATE; SQLite: ``BEFORE UPDATE/DELETE`` triggers with ``RAISE(ABORT, ...)``.
  Someone with DDL rights can still drop them; signed checkpoints catch what that person
  then changes.
- The one-round-trip append on PostgreSQL: ``audit_append()``, a plpgsql function (so its
  plans are cached per session).
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


def install(connection: Any) -> None:
    with connection.cursor() as cursor:
        for statement in install_sql(connection.vendor):
            cursor.execute(statement)


def remove(connection: Any) -> None:
    with connection.cursor() as cursor:
        for statement in remove_sql(connection.vendor):
            cursor.execute(statement)


# Locks the head row (the UPDATE takes the same row lock as SELECT ... FOR UPDATE), chains
# the hash from the newest committed head (re-read after any lock wait) and inserts the
# event. The bytes hashed are audit.crypto's canonical bytes; only the sequence field is
# spelled out here, the rest comes in as ``p_tail``.
POSTGRESQL_APPEND_FUNCTION = """
CREATE OR REPLACE FUNCTION audit_append(
    p_prefix text, p_tail text, p_nonce bytea, p_ciphertext bytea, p_time timestamptz,
    p_actor_id bigint, p_actor_username text, p_organization_id text, p_action text,
    p_target_label text, p_target_id text, p_key_id text,
    OUT o_sequence bigint, OUT o_prev_hash text, OUT o_hash text
) RETURNS SETOF record LANGUAGE plpgsql AS $fn$
BEGIN
    UPDATE audit_auditchainhead AS head
    SET last_sequence = head.last_sequence + 1,
        previous_hash = head.last_hash,
        last_hash = encode(sha256(
            decode(head.last_hash, 'hex')
            || convert_to(p_prefix || length((head.last_sequence + 1)::text)::text || ':'
                          || (head.last_sequence + 1)::text || ';' || p_tail, 'UTF8')
            || p_nonce || p_ciphertext), 'hex')
    WHERE head.id = 1
    RETURNING head.last_sequence, head.previous_hash, head.last_hash
    INTO o_sequence, o_prev_hash, o_hash;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    INSERT INTO audit_auditevent (sequence, time, actor_id, actor_username, organization_id,
        action, target_label, target_id, key_id, nonce, ciphertext, prev_hash, hash)
    VALUES (o_sequence, p_time, p_actor_id, p_actor_username, p_organization_id, p_action,
        p_target_label, p_target_id, p_key_id, p_nonce, p_ciphertext, o_prev_hash, o_hash);
    RETURN NEXT;
END;
$fn$;
"""
