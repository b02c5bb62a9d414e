"""Writes through /fhir/: a partner system moving a Task, and its subscriptions.

A Task's status goes through ``referral_transition``, the same service, rules and audit as
``POST /api/v1/referrals/{id}/transition/``: who may take which step, the coded reasons,
the 409 for an illegal move, the event row, the notifications.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db import transaction

from audit.models import AuditAction
from audit.services import audit_record
from core.errors import Conflict, DomainError, NotFound, ValidationFailed
from referral.fhir import mapping as m
from referral.fhir.subscriptions import endpoint_refusal
from referral.models import FhirSubscription, FhirSubscriptionStatus, Referral, ReferralStatus
from referral.selectors.access import membership_of
from referral.services.referrals import referral_transition

# The transition API's fields and the Task elements that carry them.
TASK_ELEMENTS = {
    "to": "status",
    "reason_code": "statusReason",
    "outcome": "output",
    "expected_start": "restriction.period.start",
}


@dataclass(frozen=True)
class TaskChange:
    """What a PATCH or PUT of a Task asks for, parsed from the resource (``views``)."""

    status: str
    reason_code: str = ""
    outcome: str = ""
    # on-hold (the waiting list): when the service expects to start, Task.restriction.period
    expected_start: date | None = None


def task_update(*, actor, referral: Referral, change: TaskChange) -> Referral:
    """Move the referral as ``change.status`` says. The Task's current status is no move
    (a PUT that changes nothing else changes nothing); a status the IG's value set leaves
    out is a 400; one with no Continuum step, or a step the rules refuse, a 409."""
    current = m.TASK_STATUS[referral.status]
    if change.status not in m.TASK_STATUSES or change.status in ("ready", "received"):
        raise ValidationFailed(
            f"{change.status!r} is not a referral Task status.",
            errors={"status": ["Not in the SDOHCC Referral Task Status value set."]},
        )
    if change.status == current:
        return referral
    to = m.TASK_STATUS_TO_TRANSITION.get(change.status)
    if to is None:
        raise Conflict(
            f"A Task that is {current} cannot become {change.status}.",
            errors={"status": [f"No step leads to {change.status}."]},
            code="illegal_transition",
        )
    try:
        return referral_transition(
            referral=referral,
            actor=actor,
            to=to,
            reason_code=change.reason_code,
            outcome=change.outcome,
            expected_start=change.expected_start if to == ReferralStatus.WAITLISTED else None,
        )
    except DomainError as error:
        # The same error, naming the Task's elements instead of the API's fields.
        error.errors = {TASK_ELEMENTS.get(k, k): v for k, v in error.errors.items()}
        raise


@transaction.atomic
def subscription_create(
    *, actor, endpoint: str, role: str, reason: str, server_base: str
) -> tuple[FhirSubscription, bool]:
    """A rest-hook subscription of the actor's organisation to its Tasks (``role``: "" for
    both ends, "owner" or "requester"). An endpoint off the allow-list is a 400 naming
    ``channel.endpoint``. Returns ``(subscription, created)``: the same active subscription
    asked for again (a retried POST) is the one there is, so nothing is notified twice."""
    membership = membership_of(actor)
    if membership is None:
        raise NotFound()
    refusal = endpoint_refusal(endpoint)
    if refusal is not None:
        raise ValidationFailed(
            "This endpoint may not receive notifications.",
            errors={"channel.endpoint": [refusal]},
            code="endpoint_not_allowed",
        )
    existing = FhirSubscription.objects.filter(
        organization_id=membership.organization_id,
        endpoint=endpoint,
        role=role,
        status=FhirSubscriptionStatus.ACTIVE,
    ).first()
    if existing is not None:
        return existing, False
    subscription = FhirSubscription.objects.create(
        organization_id=membership.organization_id,
        created_by=actor,
        endpoint=endpoint,
        role=role,
        reason=reason[:200],
        server_base=server_base,
    )
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        target=subscription,
        data={"endpoint": endpoint, "role": role},
    )
    return subscription, True


@transaction.atomic
def subscription_off(*, actor, subscription: FhirSubscription) -> FhirSubscription:
    """Stop a subscription (DELETE): nothing more is queued for it, nothing queued is sent."""
    if subscription.status != FhirSubscriptionStatus.OFF:
        subscription.status = FhirSubscriptionStatus.OFF
        subscription.save(update_fields=["status"])
        audit_record(
            actor=actor, action=AuditAction.UPDATE, target=subscription, data={"status": "off"}
        )
    return subscription
