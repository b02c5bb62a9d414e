"""Reads of the audit trail, with who may see what decided here."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from audit.crypto import PayloadUnreadable, decrypt_payload
from audit.models import AuditEvent
from core.errors import NotFound

ORG_ADMIN_ROLE = "org_admin"


def _admin_organization_id(user: Any) -> str | None:
    """The organisation ``user`` administers, by duck typing on ``user.membership``."""
    try:
        membership = getattr(user, "membership", None)
    except Exception:  # noqa: BLE001 - a missing related row means "no membership"
        return None
    if membership is None or getattr(membership, "role", None) != ORG_ADMIN_ROLE:
        return None
    organization_id = getattr(membership, "organization_id", None)
    return None if organization_id is None else str(organization_id)


def audit_event_list(
    *,
    user: Any,
    target_label: str | None = None,
    target_id: str | None = None,
    action: str | None = None,
    actor_id: int | None = None,
) -> QuerySet[AuditEvent]:
    """Events a superuser (all) or an organisation admin (own organisation) may read.

    Everyone else gets ``NotFound``: the trail's existence is not advertised.
    """
    events = AuditEvent.objects.order_by("-sequence")
    if not getattr(user, "is_superuser", False):
        organization_id = _admin_organization_id(user)
        if organization_id is None:
            raise NotFound()
        events = events.filter(organization_id=organization_id)
    if target_label is not None:
        events = events.filter(target_label=target_label, target_id=target_id)
    if action is not None:
        events = events.filter(action=action)
    if actor_id is not None:
        events = events.filter(actor_id=actor_id)
    return events


def audit_event_payload(event: AuditEvent) -> Any:
    """The decrypted payload, or None when its key is gone."""
    try:
        return decrypt_payload(
            key_id=event.key_id,
            nonce=event.nonce,
            ciphertext=event.ciphertext,
            time=event.time,
            target_label=event.target_label,
            target_id=event.target_id,
        )
    except PayloadUnreadable:
        return None
