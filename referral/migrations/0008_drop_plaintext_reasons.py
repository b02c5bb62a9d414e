from django.db import migrations


class Migration(migrations.Migration):
    """The plaintext columns go once their text is sealed (0007)."""

    dependencies = [
        ("referral", "0007_coded_reasons_sealed_text"),
    ]

    operations = [
        migrations.RemoveField(model_name="referral", name="reason"),
        migrations.RemoveField(model_name="referralevent", name="reason"),
    ]
