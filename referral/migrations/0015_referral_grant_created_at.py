"""Grant rows carry their referral's creation time and status (filled in here; the next
migration makes them required and indexes them: PostgreSQL refuses to alter a table with
updates pending in the same transaction)."""

from django.db import migrations, models


def fill(apps, schema_editor):
    Grant = apps.get_model("referral", "ReferralGroupObjectPermission")
    Referral = apps.get_model("referral", "Referral")
    referral = Referral.objects.filter(pk=models.OuterRef("content_object_id"))
    Grant.objects.update(
        referral_created_at=models.Subquery(referral.values("created_at")[:1]),
        referral_status=models.Subquery(referral.values("status")[:1]),
    )


class Migration(migrations.Migration):
    dependencies = [("referral", "0014_referral_outcome_measures")]

    operations = [
        migrations.AddField(
            model_name="referralgroupobjectpermission",
            name="referral_created_at",
            field=models.DateTimeField(null=True),
        ),
        migrations.AddField(
            model_name="referralgroupobjectpermission",
            name="referral_status",
            field=models.CharField(max_length=12, null=True),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop, elidable=True),
    ]
