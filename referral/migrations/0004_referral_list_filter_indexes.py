from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("referral", "0003_referral_newest_index"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="referral",
            index=models.Index(
                fields=["receiving_organization", "-created_at", "-id"],
                name="referral_received_newest_idx",
            ),
        ),
        migrations.AddIndex(
            model_name="referral",
            index=models.Index(
                fields=["status", "-created_at", "-id"], name="referral_status_newest_idx"
            ),
        ),
    ]
