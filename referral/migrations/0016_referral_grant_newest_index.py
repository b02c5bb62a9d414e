"""Indexes read an organisation's grants newest first (all, or of one status): the permission-filtered referral
list becomes one index range over grant rows."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("referral", "0015_referral_grant_created_at")]

    operations = [
        migrations.AlterField(
            model_name="referralgroupobjectpermission",
            name="referral_created_at",
            field=models.DateTimeField(),
        ),
        migrations.AlterField(
            model_name="referralgroupobjectpermission",
            name="referral_status",
            field=models.CharField(max_length=12),
        ),
        migrations.AddIndex(
            model_name="referralgroupobjectpermission",
            index=models.Index(
                fields=["group", "permission", "-referral_created_at", "-content_object"],
                name="referral_grant_newest_idx",
            ),
        ),
        migrations.AddIndex(
            model_name="referralgroupobjectpermission",
            index=models.Index(
                fields=[
                    "group",
                    "permission",
                    "referral_status",
                    "-referral_created_at",
                    "-content_object",
                ],
                name="referral_grant_status_idx",
            ),
        ),
    ]
