"""A service's stage may be blank: "unclassified", for services imported from an HSDS feed
that names no stage Continuum can read. Listed in the directory, not offered for referrals.
An organisation's kind may be blank too: stock HSDS feeds do not say it."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("services_directory", "0007_drop_plaintext_api_tokens"),
    ]

    operations = [
        migrations.AlterField(
            model_name="organization",
            name="kind",
            field=models.CharField(
                blank=True,
                choices=[
                    ("police", "Police"),
                    ("red_cross", "Red Cross / Red Crescent"),
                    ("municipality", "Municipality"),
                    ("treatment", "Treatment provider"),
                    ("harm_reduction", "Harm reduction"),
                    ("health", "Health"),
                    ("social", "Social services"),
                    ("ngo", "NGO"),
                ],
                max_length=20,
            ),
        ),
        migrations.AlterField(
            model_name="service",
            name="stage",
            field=models.CharField(
                blank=True,
                choices=[
                    ("outreach", "Outreach"),
                    ("screening", "Screening"),
                    ("harm_reduction", "Harm reduction"),
                    ("treatment", "Treatment"),
                    ("recovery", "Recovery"),
                    ("social_support", "Social support"),
                ],
                max_length=20,
            ),
        ),
    ]
