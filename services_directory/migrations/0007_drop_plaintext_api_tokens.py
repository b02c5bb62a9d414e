"""DRF's authtoken table held every API token as the bearer value itself. Its app is gone
(tokens are django-rest-knox digests now, ``DeviceToken``): drop the table, so that no
plaintext token stays in a database that is upgraded. Phones sign in again once."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("services_directory", "0006_device_token"),
    ]

    operations = [
        migrations.RunSQL(
            "DROP TABLE IF EXISTS authtoken_token", reverse_sql=migrations.RunSQL.noop
        ),
    ]
