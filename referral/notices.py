"""Notifications as codes with parameters, put into words in the reader's language.

A notification stores ``code`` and ``params`` (names as they were when it was made, times
in UTC with the time zone to show them in), never a finished sentence, so each reader sees
it in their own language: the page in the language of the request, the email in the
recipient's (``referral.tasks``). Rows written before codes existed keep their English text
(``Notification.legacy_message``) and show it as it was.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from django.utils import translation
from django.utils.formats import date_format
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

REFERRAL_NEW_ROUTINE = "referral_new_routine"
REFERRAL_NEW_URGENT = "referral_new_urgent"
REFERRAL_STATUS = "referral_status"
REFERRAL_EXPIRED = "referral_expired"
EMERGENCY_ACCESS = "emergency_access"

TEMPLATES = {
    REFERRAL_NEW_ROUTINE: _("New routine referral to %(service)s."),
    REFERRAL_NEW_URGENT: _("New urgent referral to %(service)s."),
    REFERRAL_STATUS: _("Your referral to %(service)s is now %(status)s."),
    REFERRAL_EXPIRED: _(
        "A referral to %(service)s expired unanswered after its SLA (due %(due_at)s)."
    ),
    EMERGENCY_ACCESS: _(
        "Emergency access (42 CFR 2.51) to a person your organisation recorded was opened "
        "by %(organization)s until %(until)s."
    ),
}
TIME_PARAMS = ("due_at", "until")


def notice_params(**params) -> dict:
    """Parameters as stored: datetimes as ISO text in UTC (``time_zone`` says where to show
    them)."""
    stored = {}
    for name, value in params.items():
        stored[name] = value.isoformat() if isinstance(value, datetime) else value
    return stored


def local_time(value: str | datetime, time_zone: str | None) -> str:
    """A time in the task force's zone, in the active language's format, with the zone."""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    zone = time_zone or "UTC"
    local = moment.astimezone(ZoneInfo(zone))
    return f"{date_format(local, 'SHORT_DATETIME_FORMAT')} ({zone})"


def _status_label(status: str) -> str:
    from referral.models import ReferralStatus

    try:
        label = ReferralStatus(status).label
    except ValueError:
        return status
    return str(label).lower()


def notice_text(code: str, params: dict, *, language: str | None = None) -> str:
    """The notification in words: in ``language``, or the active one."""
    if language is not None:
        with translation.override(language):
            return notice_text(code, params)
    template = TEMPLATES.get(code)
    if template is None:
        return gettext("A change to one of your referrals.")
    values = dict(params)
    for name in TIME_PARAMS:
        if values.get(name):
            values[name] = local_time(values[name], params.get("time_zone"))
    if "status" in values:
        values["status"] = _status_label(values["status"])
    values.setdefault("service", "")
    return str(template) % values
