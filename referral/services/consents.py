"""Recording and revoking a person's consent to disclose (42 CFR Part 2 §2.31, GDPR art. 9).

Whether a consent covers a disclosure is decided at read time (``access.consent_covering``),
so a revocation or an expiry stops further disclosure at once, with nothing to recompute.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from audit.models import AuditAction
from audit.services import audit_record
from core.errors import Conflict, ValidationFailed
from referral.models import Consent, ConsentMethod, DisclosedField, Person
from referral.services.people import person_change_check
from services_directory.models import Organization, Stage


def _validate(
    *,
    recipients: Sequence[uuid.UUID | str],
    stages: Sequence[str],
    information: str,
    purpose: str,
    method: str,
    expires_at: datetime | None,
    expires_on_event: str | None,
    now: datetime,
) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if not recipients and not stages:
        message = "Name at least one recipient organisation or continuum stage."
        errors["recipients"] = [message]
        errors["stages"] = [message]
    unknown_stages = sorted({s for s in stages if s not in Stage.values})
    if unknown_stages:
        errors["stages"] = [
            f"Unknown stage(s): {', '.join(unknown_stages)}. Known: {', '.join(Stage.values)}."
        ]
    if not (information or "").strip():
        errors["information"] = ["Say what information may be disclosed."]
    if not (purpose or "").strip():
        errors["purpose"] = ["Say for what purpose."]
    if method not in ConsentMethod.values:
        errors["method"] = [f"Must be one of: {', '.join(ConsentMethod.values)}."]
    if expires_at is not None and expires_at <= now:
        errors["expires_at"] = ["Must be in the future."]
    if expires_on_event is not None and len(expires_on_event) > 200:
        errors["expires_on_event"] = ["At most 200 characters."]
    return errors


def _recipient_organizations(
    recipients: Sequence[uuid.UUID | str], errors: dict[str, list[str]]
) -> list[Organization]:
    try:
        wanted = {uuid.UUID(str(r)) for r in recipients}
    except ValueError:
        errors["recipients"] = ["Each recipient must be an organisation id."]
        return []
    found = list(Organization.objects.filter(pk__in=wanted))
    missing = wanted - {o.pk for o in found}
    if missing:
        errors["recipients"] = [
            f"Unknown organisation(s): {', '.join(sorted(str(m) for m in missing))}."
        ]
    return found


@transaction.atomic
def consent_create(
    *,
    actor,
    person: Person,
    recipients: Sequence[uuid.UUID | str],
    stages: Sequence[str],
    information: str,
    purpose: str,
    method: str,
    expires_at: datetime | None = None,
    expires_on_event: str | None = None,
    disclosed_fields: Sequence[str] | None = None,
) -> Consent:
    """Record the person's consent, given now, as disclosed by the actor's organisation, which
    must be the one that recorded the person. ``disclosed_fields`` names the identifying
    fields it discloses (None: all five). The audit event names the recipients, stages,
    fields, method and expiry, never the free text."""
    membership = person_change_check(actor=actor, person=person)
    if person.erased_at is not None:
        raise Conflict(_("This person's record was erased."), code="person_erased")
    now = timezone.now()
    stages = list(dict.fromkeys(stages))
    errors = _validate(
        recipients=recipients,
        stages=stages,
        information=information,
        purpose=purpose,
        method=method,
        expires_at=expires_at,
        expires_on_event=expires_on_event,
        now=now,
    )
    organizations = _recipient_organizations(recipients, errors) if recipients else []
    if disclosed_fields is None:
        disclosed_fields = list(DisclosedField.values)
    unknown_fields = sorted(set(disclosed_fields) - set(DisclosedField.values))
    if unknown_fields:
        errors["disclosed_fields"] = [
            f"Unknown field(s): {', '.join(unknown_fields)}. "
            f"Known: {', '.join(DisclosedField.values)}."
        ]
    elif not disclosed_fields:
        errors["disclosed_fields"] = ["Name at least one field, or leave it out for all."]
    disclosed_fields = [f for f in DisclosedField.values if f in set(disclosed_fields)]
    if errors:
        raise ValidationFailed(
            _("Invalid input: %(fields)s.") % {"fields": ", ".join(errors)}, errors=errors
        )
    consent = Consent.objects.create(
        person=person,
        disclosing_organization_id=membership.organization_id,
        stages=stages,
        disclosed_fields=disclosed_fields,
        information=information.strip(),
        purpose=purpose.strip(),
        method=method,
        recorded_by=actor,
        given_at=now,
        expires_at=expires_at,
        expires_on_event=(expires_on_event or "").strip(),
    )
    consent.recipients.set(organizations)
    audit_record(
        actor=actor,
        action=AuditAction.CONSENT_GRANT,
        target=consent,
        data={
            "person": str(person.pk),
            "recipients": sorted(str(o.pk) for o in organizations),
            "stages": stages,
            "disclosed_fields": disclosed_fields,
            "method": method,
            "expires_at": expires_at.isoformat() if expires_at else None,
            "expires_on_event": bool(consent.expires_on_event),
            "fields": ["information", "purpose"],
        },
    )
    return consent


@transaction.atomic
def consent_revoke(*, actor, consent: Consent) -> Consent:
    """Revoke a consent; disclosure under it stops at once. Only the organisation that recorded
    the person may revoke. Revoking a revoked consent returns it unchanged (retry-safe)."""
    person_change_check(actor=actor, person=consent.person)
    consent = Consent.objects.select_for_update().get(pk=consent.pk)
    if consent.revoked_at is not None:
        return consent
    consent.revoked_at = timezone.now()
    consent.revoked_by = actor
    consent.save(update_fields=["revoked_at", "revoked_by"])
    audit_record(
        actor=actor,
        action=AuditAction.CONSENT_REVOKE,
        target=consent,
        data={"person": str(consent.person_id)},
    )
    return consent
