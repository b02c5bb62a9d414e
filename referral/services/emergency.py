"""Emergency access (42 CFR Part 2 §2.51, the medical-emergency exception; DHIS2 calls it
"breaking the glass"): a provider whose organisation is party to a referral for a person
opens the person's identity without consent, for ``CONTINUUM_EMERGENCY_ACCESS_MINUTES``.

One transaction: the access row, its audit event (who, when, the stated nature of the
emergency) and a notification to the organisation that recorded the person, queued in
the outbox.
The coordinators' board and the org admins' review list read the rows
(``coordination.selectors.board``, ``referral.selectors.emergency``)."""

from __future__ import annotations

import uuid
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from audit.models import AuditAction
from audit.services import audit_record
from core.errors import NotFound, ValidationFailed
from referral import crypto, notices
from referral.models import EmergencyAccess, Notification, Person, Referral
from referral.selectors.access import membership_of
from services_directory.models import Role

REASON_MAX_LENGTH = 2000


def _party_referral(*, person_id, organization_id) -> Referral | None:
    """The newest referral for this person that the organisation sent or received."""
    return (
        Referral.objects.filter(person_id=person_id, person__isnull=False)
        .filter(
            Q(sender_organization_id=organization_id) | Q(receiving_organization_id=organization_id)
        )
        .select_related("person", "to_service")
        .order_by("-created_at", "-id")
        .first()
    )


def _reason_encrypt(*, access_id: uuid.UUID, person: Person, reason: str) -> tuple[str, bytes]:
    if person.wrapped_data_key is not None:
        data_key = crypto.data_key_unwrap(
            person_id=str(person.pk), key_id=person.data_key_id, wrapped=person.wrapped_data_key
        )
        blob = crypto.field_encrypt(
            data_key=data_key,
            person_id=str(person.pk),
            field=f"emergency-access:{access_id}",
            value=reason,
        )
        return crypto.PERSON_KEY, blob
    return crypto.master_encrypt(value=reason, context=f"emergency-access:{access_id}")


def emergency_access_reason(access: EmergencyAccess) -> str | None:
    """The stated nature of the emergency in clear (None once the person is erased)."""
    try:
        if access.reason_key_id == crypto.PERSON_KEY:
            person = access.person
            data_key = crypto.data_key_unwrap(
                person_id=str(person.pk),
                key_id=person.data_key_id,
                wrapped=person.wrapped_data_key,
            )
            return crypto.field_decrypt(
                data_key=data_key,
                person_id=str(person.pk),
                field=f"emergency-access:{access.pk}",
                blob=access.reason_enc,
            )
        return crypto.master_decrypt(
            key_id=access.reason_key_id,
            blob=access.reason_enc,
            context=f"emergency-access:{access.pk}",
        )
    except crypto.Unreadable:
        return None


@transaction.atomic
def emergency_access_open(*, actor, person_id, reason: str) -> EmergencyAccess:
    """Open ``person_id``'s identity to ``actor`` for the emergency period.

    Only a provider whose organisation sent or received a referral for the person may;
    anyone else gets the same 404 as for a person that does not exist."""
    membership = membership_of(actor)
    if membership is None or membership.role != Role.PROVIDER:
        raise NotFound(_("Person not found."))
    referral = _party_referral(person_id=person_id, organization_id=membership.organization_id)
    if referral is None:
        raise NotFound(_("Person not found."))
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(
            _("Say what the emergency is."),
            errors={"reason": [_("Required.")]},
            code="reason_required",
        )
    if len(reason) > REASON_MAX_LENGTH:
        raise ValidationFailed(
            _("The reason is too long."),
            errors={"reason": [_("At most %(count)s characters.") % {"count": REASON_MAX_LENGTH}]},
        )
    person = referral.person
    now = timezone.now()
    access_id = uuid.uuid4()
    key_id, blob = _reason_encrypt(access_id=access_id, person=person, reason=reason)
    access = EmergencyAccess.objects.create(
        id=access_id,
        user=actor,
        organization_id=membership.organization_id,
        person=person,
        referral=referral,
        reason_enc=blob,
        reason_key_id=key_id,
        granted_at=now,
        expires_at=now + timedelta(minutes=settings.CONTINUUM_EMERGENCY_ACCESS_MINUTES),
    )
    audit_record(
        actor=actor,
        action=AuditAction.EMERGENCY_ACCESS,
        target=person,
        organization_id=str(membership.organization_id),
        data={
            "reason": reason,
            "referral": str(referral.pk),
            "granted_at": now.isoformat(),
            "expires_at": access.expires_at.isoformat(),
        },
    )
    if person.organization_id != membership.organization_id:
        _notify_recording_organization(access=access, referral=referral, person=person)
    return access


def _notify_recording_organization(*, access, referral, person) -> None:
    """Through the referral notifications and their outbox, as a status is told: no name,
    no reason."""
    from referral.tasks import notification_queue

    notification_queue(
        Notification.objects.create(
            referral=referral,
            organization_id=person.organization_id,
            event=None,
            code=notices.EMERGENCY_ACCESS,
            params=notices.notice_params(
                organization=access.organization.name,
                until=access.expires_at,
                time_zone=referral.task_force.time_zone if referral.task_force_id else "UTC",
            ),
        )
    )
