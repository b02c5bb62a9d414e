from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("referral", "0002_referral_timing"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="referral",
            index=models.Index(fields=["-created_at", "-id"], name="referral_newest_idx"),
        ),
    ]
