"""Notifications as a code with parameters, put into words in the reader's language.

The English sentence of each existing row is kept (``legacy_message``) and, where it is one
of the sentences Continuum wrote, read back into its code and parameters so that it too
shows in the reader's language. A sentence that matches none stays readable as it was."""

import re
from datetime import UTC, datetime

from django.db import migrations, models

STATUSES = {
    "sent": "sent",
    "accepted": "accepted",
    "engaged": "engaged",
    "completed": "completed",
    "disengaged (lost to follow-up)": "disengaged",
    "forwarded": "forwarded",
    "declined": "declined",
    "expired": "expired",
    "withdrawn": "withdrawn",
}
NEW = re.compile(r"^New (routine|urgent) referral to (?P<service>.+)\.$", re.S)
STATUS = re.compile(r"^Your referral to (?P<service>.+) is now (?P<status>.+)\.$", re.S)
EXPIRED = re.compile(
    r"^A referral to (?P<service>.+) expired unanswered after its SLA "
    r"\(due (?P<due>\d{4}-\d\d-\d\d \d\d:\d\d) UTC\)\.$",
    re.S,
)
EMERGENCY = re.compile(
    r"^Emergency access \(42 CFR 2\.51\) to a person your organisation recorded was opened "
    r"by (?P<organization>.+) until (?P<until>\d{4}-\d\d-\d\d \d\d:\d\d) UTC\.$",
    re.S,
)


def _utc(text: str) -> str:
    return datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=UTC).isoformat()


def coded(message: str) -> tuple[str, dict] | None:
    if match := NEW.match(message):
        return f"referral_new_{match.group(1)}", {"service": match["service"]}
    if (match := STATUS.match(message)) and match["status"] in STATUSES:
        return "referral_status", {
            "service": match["service"],
            "status": STATUSES[match["status"]],
        }
    if match := EXPIRED.match(message):
        return "referral_expired", {
            "service": match["service"],
            "due_at": _utc(match["due"]),
            "time_zone": "UTC",
        }
    if match := EMERGENCY.match(message):
        return "emergency_access", {
            "organization": match["organization"],
            "until": _utc(match["until"]),
            "time_zone": "UTC",
        }
    return None


def read_old_sentences(apps, schema_editor):
    Notification = apps.get_model("referral", "Notification")
    for notification in Notification.objects.filter(code="").iterator():
        found = coded(notification.legacy_message)
        if found is not None:
            notification.code, notification.params = found
            notification.save(update_fields=["code", "params"])


class Migration(migrations.Migration):
    dependencies = [
        ("referral", "0016_referral_grant_newest_index"),
    ]

    operations = [
        migrations.RenameField(
            model_name="notification", old_name="message", new_name="legacy_message"
        ),
        migrations.AlterField(
            model_name="notification",
            name="legacy_message",
            field=models.CharField(blank=True, max_length=300),
        ),
        migrations.AddField(
            model_name="notification",
            name="code",
            field=models.CharField(blank=True, max_length=40),
        ),
        migrations.AddField(
            model_name="notification",
            name="params",
            field=models.JSONField(blank=True, default=dict),
        ),
        migrations.RunPython(read_old_sentences, migrations.RunPython.noop),
    ]
