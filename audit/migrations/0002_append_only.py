"""Create the chain head row, make the event and checkpoint tables append-only and, on
SQLite, let an insert advance the head."""

from django.db import migrations

from audit import append_only


def create_head(apps, schema_editor):
    AuditChainHead = apps.get_model("audit", "AuditChainHead")
    AuditChainHead.objects.using(schema_editor.connection.alias).get_or_create(
        pk=1, defaults={"last_sequence": 0, "last_hash": "0" * 64, "previous_hash": "0" * 64}
    )


def install_triggers(apps, schema_editor):
    for statement in append_only.install_sql(schema_editor.connection.vendor):
        schema_editor.execute(statement)


def remove_triggers(apps, schema_editor):
    for statement in append_only.remove_sql(schema_editor.connection.vendor):
        schema_editor.execute(statement)


def install_head_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute(append_only.SQLITE_HEAD_TRIGGER)


def remove_head_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute("DROP TRIGGER IF EXISTS audit_auditevent_advance_head;")


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_initial")]

    operations = [
        migrations.RunPython(create_head, migrations.RunPython.noop),
        migrations.RunPython(install_triggers, remove_triggers),
        migrations.RunPython(install_head_trigger, remove_head_trigger),
    ]
