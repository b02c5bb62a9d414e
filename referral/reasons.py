"""The published code sets for why a referral closed (``GET /api/v1/reason-codes/``).

Every party to a referral (sender, receiver, coordinator) sees the status, its time and the
``reason_code``; the optional free-text note is for fewer readers (``referral.selectors``).
The codes follow the Gravity Project / SDOH Clinical Care referral outcomes where they have
one, in our own words otherwise.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from referral.models import ReferralStatus as S

SUCCESSFUL = "successful"
NOT_SUCCESSFUL = "not_successful"
OUTCOMES: dict[str, str] = {
    SUCCESSFUL: _("Successful"),
    NOT_SUCCESSFUL: _("Not successful"),
}
EXPIRED_CODE = "no_answer_within_sla"

REASON_CODES: dict[str, dict[str, str]] = {
    S.DECLINED: {
        "no_capacity": _("No capacity"),
        "not_eligible": _("Not eligible"),
        "unable_to_contact": _("Unable to contact the person"),
        "client_refused": _("The person refused"),
        "duplicate": _("Duplicate referral"),
        "out_of_area": _("Out of the service's area"),
        "other": _("Other"),
    },
    S.WITHDRAWN: {
        "client_declined": _("The person declined"),
        "referred_elsewhere": _("Referred elsewhere"),
        "entered_in_error": _("Entered in error"),
        "other": _("Other"),
    },
    S.DISENGAGED: {
        "lost_contact": _("Lost contact"),
        "client_left": _("The person left"),
        "moved_away": _("Moved away"),
        "incarcerated": _("Incarcerated"),
        "deceased": _("Deceased"),
        "other": _("Other"),
    },
    # Only with outcome "not_successful".
    S.COMPLETED: {
        "client_refused_services": _("The person refused services"),
        "lack_of_capacity": _("Lack of capacity"),
        "unable_to_contact_client": _("Unable to contact the person"),
        "not_eligible": _("Not eligible"),
        "other": _("Other"),
    },
    S.EXPIRED: {EXPIRED_CODE: _("No answer within the service's SLA")},
}

# Statuses whose transition must carry a code from its set (completed: when not successful;
# expired: set by the system).
CODE_REQUIRED = frozenset({S.DECLINED, S.WITHDRAWN, S.DISENGAGED})


def reason_label(status: str, code: str) -> str:
    """The label of ``code`` in the code set of ``status`` ("" for no code)."""
    return str(REASON_CODES.get(status, {}).get(code, "")) if code else ""


def reason_codes_published() -> dict[str, object]:
    """The code sets as ``GET /api/v1/reason-codes/`` answers them."""
    return {
        "transitions": {
            status: {
                "required": status in CODE_REQUIRED,
                "set_by_system": status == S.EXPIRED,
                "codes": [{"code": code, "label": label} for code, label in codes.items()],
            }
            for status, codes in REASON_CODES.items()
        },
        "outcomes": [{"code": code, "label": label} for code, label in OUTCOMES.items()],
        "completed": "outcome is required; reason_code from the completed set when the "
        "outcome is not_successful, and none when it is successful.",
    }
