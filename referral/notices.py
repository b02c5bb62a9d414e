"""Notifications as codes with parameters, put into words in the reader's language.

A notification stores ``code`` and ``params`` (names as they were when it was made, times
in UTC with the time zone to show them in), never a finished sentence, so each reader sees
it in their own language: the page in the language of the request, the email in the
recipient's (``referral.tasks``). Rows written before codes existed keep their English text
(``Notification.legacy_message``) and show it as it was.
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from django.utils import translation
from django.utils.formats import date_format
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

REFERRAL_NEW_ROUTINE = "referral_new_routine"
REFERRAL_NEW_URGENT = "referral_new_urgent"
REFERRAL_NEW_STAGE_ROUTINE = "referral_new_stage_routine"
REFERRAL_NEW_STAGE_URGENT = "referral_new_stage_urgent"
REFERRAL_STATUS = "referral_status"
REFERRAL_WAITLISTED = "referral_waitlisted"
REFERRAL_EXPIRED = "referral_expired"
EMERGENCY_ACCESS = "emergency_access"

TEMPLATES = {
    REFERRAL_NEW_ROUTINE: _("New routine referral to %(service)s."),
    REFERRAL_NEW_URGENT: _("New urgent referral to %(service)s."),
    REFERRAL_NEW_STAGE_ROUTINE: _(
        "New routine referral open to any %(stage)s service: the first to accept takes it."
    ),
    REFERRAL_NEW_STAGE_URGENT: _(
        "New urgent referral open to any %(stage)s service: the first to accept takes it."
    ),
    REFERRAL_STATUS: _("Your referral to %(service)s is now %(status)s."),
    REFERRAL_WAITLISTED: _(
        "Your referral to %(service)s is waiting for a place, expected from %(start)s."
    ),
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
    """Parameters as stored: datetimes and dates as ISO text (datetimes in UTC; ``time_zone``
    says where to show them)."""
    stored = {}
    for name, value in params.items():
        stored[name] = value.isoformat() if isinstance(value, datetime | date) else value
    return stored


def addressee_params(referral) -> dict:
    """Whom a referral went to: the service's name, or the stage it is offered to."""
    if referral.to_service_id is not None:
        return {"service": referral.to_service.name}
    return {"stage": referral.stage}


def local_time(value: str | datetime, time_zone: str | None) -> str:
    """A time in the task force's zone, in the active language's format, with the zone."""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    zone = time_zone or "UTC"
    local = moment.astimezone(ZoneInfo(zone))
    return f"{date_format(local, 'SHORT_DATETIME_FORMAT')} ({zone})"


def _label(choices, code: str) -> str:
    try:
        return str(choices(code).label).lower()
    except ValueError:
        return code


def _status_text(params: dict) -> str:
    """The status, with the outcome and the coded reason when there are any:
    ``completed: not successful (the person refused services)``."""
    from referral import reasons
    from referral.models import ReferralStatus

    status = params.get("status", "")
    text = _label(ReferralStatus, status)
    if params.get("outcome"):
        text += f": {str(reasons.OUTCOMES.get(params['outcome'], params['outcome'])).lower()}"
    label = reasons.reason_label(status, params.get("reason_code", ""))
    if label:
        text += f" ({label.lower()})"
    return text


def notice_text(code: str, params: dict, *, language: str | None = None) -> str:
    """The notification in words: in ``language``, or the active one."""
    from services_directory.models import Stage

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
    if values.get("start"):
        values["start"] = date_format(date.fromisoformat(values["start"]), "DATE_FORMAT")
    if "status" in values:
        values["status"] = _status_text(params)
    if values.get("stage"):
        values["stage"] = _label(Stage, values["stage"])
        if "service" not in values:
            values["service"] = gettext("Any %(stage)s service") % {"stage": values["stage"]}
    values.setdefault("service", "")
    values.setdefault("stage", "")
    return str(template) % values
