"""Sign-in writes: lifting a lockout, API tokens (django-rest-knox), password changes and
deactivation.

Each function is one transaction with its audit event inside. A password change or a
deactivation ends every other way in at once: the user's other API tokens are deleted, and
their browser sessions stop working because Django checks each session against a hash of
the password (``get_session_auth_hash``) and refuses sessions of inactive users.
"""

from __future__ import annotations

from axes.handlers.proxy import AxesProxyHandler
from django.db import transaction

from audit.models import AuditAction
from audit.services import audit_record
from core.errors import Forbidden
from services_directory.models import Membership, Role


def account_admin_check(*, actor, username: str) -> None:
    """Superusers manage every account, an org admin those of their own organisation's
    members; ``actor=None`` is the operator at the server (management commands)."""
    if actor is None or actor.is_superuser:
        return
    own = getattr(actor, "membership", None)
    if (
        own is not None
        and own.role == Role.ORG_ADMIN
        and Membership.objects.filter(
            user__username=username, organization_id=own.organization_id
        ).exists()
    ):
        return
    raise Forbidden(
        "Only a superuser or an admin of the user's organisation may do this.",
        code="not_org_admin",
    )


@transaction.atomic
def signin_lock_lift(*, actor, username: str, ip_address: str | None = None) -> int:
    """Lift the lock and forget the failures of ``username`` (from one client address, or
    from all); returns how many lock records were removed."""
    account_admin_check(actor=actor, username=username)
    removed = AxesProxyHandler.reset_attempts(ip_address=ip_address or None, username=username)
    audit_record(
        actor=actor,
        action=AuditAction.LOCKOUT_LIFT,
        target=None,
        data={"username": username, "ip": ip_address or "", "removed": removed},
    )
    return removed
