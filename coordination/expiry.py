"""SLA expiry and consent expiry: the sweeps that Celery beat runs every few minutes.

Both are idempotent and safe on several workers at once. Each sweep selects the due ids with
one indexed query, then handles every row in a transaction of its own:

- the row is locked with ``SELECT ... FOR UPDATE SKIP LOCKED`` where the database has it
  (PostgreSQL), so a second worker never even waits for a row the first one is handling;
- the state is checked again under the lock (a row another worker finished is skipped), and
  ``referral_transition`` re-checks the status itself: a loser gets a ``Conflict`` and skips.

On SQLite the transactions are ``IMMEDIATE`` (config/settings.py), so writers queue and the
re-check under the write lock gives the same once-only result.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime

from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils import timezone

from audit.models import AuditAction
from audit.services import audit_record
from core.errors import Conflict
from referral.models import Consent, Notification, Referral, ReferralEvent, ReferralStatus
from referral.services.referrals import referral_transition
from services_directory.models import Organization, Role

logger = logging.getLogger(__name__)

# Rows handled per sweep; the next sweep (minutes later) takes the rest.
SWEEP_BATCH = 1000


def _locked(queryset: QuerySet) -> QuerySet:
    if connection.features.has_select_for_update_skip_locked:
        return queryset.select_for_update(skip_locked=True, of=("self",))
    return queryset.select_for_update()


def referrals_due_for_expiry(*, now: datetime, limit: int = SWEEP_BATCH) -> list[uuid.UUID]:
    """Referrals still ``sent`` whose SLA is due (index ``status, sla_due_at``)."""
    return list(
        Referral.objects.filter(status=ReferralStatus.SENT, sla_due_at__lte=now)
        .order_by("sla_due_at", "id")
        .values_list("pk", flat=True)[:limit]
    )


def coordinator_organizations(*, referral: Referral) -> QuerySet[Organization]:
    """Organisations with a coordinator in the task force the referral was made in
    (DESIGN.md: coordinators see their own task force's referrals only)."""
    return (
        Organization.objects.filter(
            memberships__role=Role.COORDINATOR, task_forces=referral.task_force_id
        )
        .distinct()
        .order_by("pk")
    )


@transaction.atomic
def referral_expire(*, referral_id: uuid.UUID, now: datetime | None = None) -> bool:
    """Expire one referral if it is still ``sent`` past its SLA; tell the sender (through
    ``referral_transition``) and the coordinators. Returns False when there was nothing to do
    (another worker holds or already expired it, or it was answered in time)."""
    now = now or timezone.now()
    referral = (
        _locked(Referral.objects.filter(pk=referral_id))
        .filter(status=ReferralStatus.SENT, sla_due_at__lte=now)
        .first()
    )
    if referral is None:
        return False
    try:
        referral = referral_transition(referral=referral, actor=None, to=ReferralStatus.EXPIRED)
    except Conflict:
        return False
    event = (
        ReferralEvent.objects.filter(referral=referral, to_status=ReferralStatus.EXPIRED)
        .order_by("-created_at", "-id")
        .first()
    )
    already = set(
        Notification.objects.filter(event=event).values_list("organization_id", flat=True)
    )
    message = (
        f"A referral to {referral.addressee} expired unanswered after its SLA "
        f"(due {referral.sla_due_at:%Y-%m-%d %H:%M} UTC)."
    )
    for organization in coordinator_organizations(referral=referral):
        if organization.pk in already:
            continue  # the sender's organisation was told by the transition itself
        _notify(
            Notification.objects.create(
                referral=referral, organization=organization, event=event, message=message
            )
        )
    return True


def _notify(notification: Notification) -> None:
    from referral.tasks import notification_queue

    notification_queue(notification)


def referrals_expire(*, now: datetime | None = None) -> int:
    """The SLA sweep: expire every referral due now; returns how many this run expired."""
    now = now or timezone.now()
    expired = 0
    for referral_id in referrals_due_for_expiry(now=now):
        if referral_expire(referral_id=referral_id, now=now):
            expired += 1
    if expired:
        logger.info("expired %d referral(s) past their SLA", expired)
    return expired


def consents_due_for_expiry(*, now: datetime, limit: int = SWEEP_BATCH) -> list[uuid.UUID]:
    return list(
        Consent.objects.filter(
            expires_at__lte=now, expired_at__isnull=True, revoked_at__isnull=True
        )
        .order_by("expires_at", "id")
        .values_list("pk", flat=True)[:limit]
    )


@transaction.atomic
def consent_expire(*, consent_id: uuid.UUID, now: datetime | None = None) -> bool:
    """Mark a consent whose ``expires_at`` passed as expired, audited. Reads already ignore
    it from that moment (``consent_active``); this makes the end explicit in the record."""
    now = now or timezone.now()
    consent = (
        _locked(Consent.objects.filter(pk=consent_id))
        .filter(expires_at__lte=now, expired_at__isnull=True, revoked_at__isnull=True)
        .first()
    )
    if consent is None:
        return False
    # The moment it lapsed, not the moment the sweep noticed.
    consent.expired_at = consent.expires_at
    consent.save(update_fields=["expired_at"])
    audit_record(
        actor=None,
        action=AuditAction.CONSENT_EXPIRE,
        target=consent,
        organization_id=str(consent.disclosing_organization_id),
        data={
            "person": str(consent.person_id),
            "expired": True,
            "expires_at": consent.expires_at.isoformat(),
            "by": "consent expiry",
        },
    )
    return True


def consents_expire(*, now: datetime | None = None) -> int:
    """The consent sweep: returns how many consents this run marked expired."""
    now = now or timezone.now()
    expired = 0
    for consent_id in consents_due_for_expiry(now=now):
        if consent_expire(consent_id=consent_id, now=now):
            expired += 1
    if expired:
        logger.info("marked %d consent(s) expired", expired)
    return expired
