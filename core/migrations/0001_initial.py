"""IdempotencyRecord, moved here from ``services_directory`` with its rows.

The table already exists (``services_directory.0005`` renames it), so this migration only
records the model in ``core``'s state."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("services_directory", "0005_move_idempotencyrecord_to_core"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.CreateModel(
                    name="IdempotencyRecord",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        ("key", models.CharField(max_length=255)),
                        ("method", models.CharField(max_length=10)),
                        ("path", models.CharField(max_length=300)),
                        ("request_fingerprint", models.CharField(max_length=64)),
                        (
                            "state",
                            models.CharField(
                                choices=[("in_progress", "In progress"), ("done", "Done")],
                                default="in_progress",
                                max_length=12,
                            ),
                        ),
                        ("response_status", models.PositiveSmallIntegerField(null=True)),
                        ("response_body", models.JSONField(null=True)),
                        ("created_at", models.DateTimeField(auto_now_add=True)),
                        (
                            "user",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                    ],
                    options={
                        "indexes": [
                            models.Index(
                                fields=["created_at"], name="services_di_created_1921e9_idx"
                            )
                        ],
                        "constraints": [
                            models.UniqueConstraint(
                                fields=("user", "key"), name="one_idempotency_key_per_user"
                            )
                        ],
                    },
                ),
            ],
        ),
    ]
