"""Create the chain head row, make the event and checkpoint tables append-only and, on
PostgreSQL, install the one-round-trip append function."""

from django.db import migrations

from audit import database


def create_head(apps, schema_editor):
    AuditChainHead = apps.get_model("audit", "AuditChainHead")
    AuditChainHead.objects.using(schema_editor.connection.alias).get_or_create(
        pk=1, defaults={"last_sequence": 0, "last_hash": "0" * 64, "previous_hash": "0" * 64}
    )


def install_triggers(apps, schema_editor):
    for statement in database.install_sql(schema_editor.connection.vendor):
        schema_editor.execute(statement)


def remove_triggers(apps, schema_editor):
    for statement in database.remove_sql(schema_editor.connection.vendor):
        schema_editor.execute(statement)


def install_append(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(database.POSTGRESQL_APPEND_FUNCTION)


def remove_append(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP FUNCTION IF EXISTS audit_append;")


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_initial")]

    operations = [
        migrations.RunPython(create_head, migrations.RunPython.noop),
        migrations.RunPython(install_triggers, remove_triggers),
        migrations.RunPython(install_append, remove_append),
    ]
