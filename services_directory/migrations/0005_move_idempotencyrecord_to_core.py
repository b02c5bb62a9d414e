"""IdempotencyRecord moves to ``core``: the table is renamed, its rows are kept."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("services_directory", "0004_opening_hours_stage"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.AlterModelTable(
                    name="IdempotencyRecord", table="core_idempotencyrecord"
                ),
            ],
            state_operations=[migrations.DeleteModel(name="IdempotencyRecord")],
        ),
    ]
