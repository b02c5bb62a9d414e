"""The board's rule for services without a stage (``unclassified``), imported from HSDS
feeds that name none."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("coordination", "0004_emergency_access_rule"),
    ]

    operations = [
        migrations.AlterField(
            model_name="agendaitem",
            name="rule",
            field=models.CharField(
                blank=True,
                choices=[
                    ("past_sla", "Referral past its SLA"),
                    ("near_sla", "Referral near its SLA"),
                    ("declined_no_follow_up", "Declined, no new referral within 72 h"),
                    ("stalled", "Stalled between stages (14 days)"),
                    ("no_capacity", "Service at zero capacity or not accepting"),
                    ("emergency_access", "Emergency access to a person (42 CFR 2.51)"),
                    ("unclassified", "Service without a stage (not offered for referrals)"),
                ],
                max_length=32,
            ),
        ),
        migrations.AlterField(
            model_name="boarditemstate",
            name="rule",
            field=models.CharField(
                choices=[
                    ("past_sla", "Referral past its SLA"),
                    ("near_sla", "Referral near its SLA"),
                    ("declined_no_follow_up", "Declined, no new referral within 72 h"),
                    ("stalled", "Stalled between stages (14 days)"),
                    ("no_capacity", "Service at zero capacity or not accepting"),
                    ("emergency_access", "Emergency access to a person (42 CFR 2.51)"),
                    ("unclassified", "Service without a stage (not offered for referrals)"),
                ],
                max_length=32,
            ),
        ),
    ]
