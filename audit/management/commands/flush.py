"""``flush`` that works with the append-only audit tables.

Flushing empties every table on purpose (tests between cases, a development reset), the
audit trail included. The append-only triggers are lifted for the flush and put back after,
so that the other vendors behave like each other and the triggers never stay off.
"""

from __future__ import annotations

from typing import Any

from django.core.management.commands.flush import Command as FlushCommand
from django.db import DEFAULT_DB_ALIAS, connections

from audit import database


class Command(FlushCommand):
    def handle(self, **options: Any) -> None:
        connection = connections[options.get("database") or DEFAULT_DB_ALIAS]
        tables = set(connection.introspection.table_names())
        if not tables.issuperset(database.APPEND_ONLY_TABLES):
            return super().handle(**options)
        database.remove(connection)
        try:
            return super().handle(**options)
        finally:
            database.install(connection)
