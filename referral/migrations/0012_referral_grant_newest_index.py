"""One index reads an organisation's grants newest first: the permission-filtered referral
list becomes one index range over grant rows."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("referral", "0011_referral_grant_created_at")]

    operations = [
        migrations.AlterField(
            model_name="referralgroupobjectpermission",
            name="referral_created_at",
            field=models.DateTimeField(),
        ),
        migrations.AddIndex(
            model_name="referralgroupobjectpermission",
            index=models.Index(
                fields=["group", "permission", "-referral_created_at", "-content_object"],
                name="referral_grant_newest_idx",
            ),
        ),
    ]
