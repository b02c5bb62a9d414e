"""Sign-in writes: lifting a lockout, API tokens (django-rest-knox), password changes and
deactivation.

Each function is one transaction with its audit event inside. A password change or a
deactivation ends every other way in at once: the user's other API tokens are deleted, and
their browser sessions stop working because Django checks each session against a hash of
the password (``get_session_auth_hash``) and refuses sessions of inactive users.
"""

from __future__ import annotations

from axes.handlers.proxy import AxesProxyHandler
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.utils import timezone

from audit.models import AuditAction
from audit.services import audit_record
from core.errors import Forbidden, ValidationFailed
from services_directory.models import DeviceToken, Membership, Role


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


# --- API tokens (django-rest-knox) -----------------------------------------------------------


def token_issue(*, user, device: str = "") -> tuple[DeviceToken, str]:
    """A new token for one device sign-in; returns the row and the token, which is never
    stored (only its digest is) and so can be shown only now."""
    token, raw = DeviceToken.objects.create(
        user=user, device=(device or "").strip()[:100], last_used_at=timezone.now()
    )
    return token, raw


@transaction.atomic
def token_revoke(*, user, token: DeviceToken) -> None:
    """Sign one device out: its token answers 401 from now on."""
    device = token.device
    DeviceToken.objects.filter(pk=token.pk, user=user).delete()
    audit_record(
        actor=user, action=AuditAction.TOKEN_REVOKE, target=user, data={"devices": [device]}
    )


def _tokens_revoke(*, user, keep: DeviceToken | None = None) -> list[str]:
    tokens = DeviceToken.objects.filter(user=user)
    if keep is not None:
        tokens = tokens.exclude(pk=keep.pk)
    devices = sorted(tokens.values_list("device", flat=True))
    tokens.delete()
    return devices


@transaction.atomic
def tokens_revoke_all(*, user) -> int:
    """Sign every device of ``user`` out."""
    devices = _tokens_revoke(user=user)
    audit_record(
        actor=user, action=AuditAction.TOKEN_REVOKE, target=user, data={"devices": devices}
    )
    return len(devices)


# --- passwords and deactivation ---------------------------------------------------------------


@transaction.atomic
def password_change(
    *, user, old_password: str, new_password: str, keep: DeviceToken | None = None
) -> None:
    """Change the password (Django's validators) and end every other way in: the other
    tokens are deleted, other sessions no longer match the password hash. ``keep`` is the
    token the request came with, so the device that changed the password stays signed in."""
    if not user.check_password(old_password):
        raise ValidationFailed(
            "The current password is wrong.",
            errors={"old_password": ["Wrong password."]},
            code="wrong_password",
        )
    try:
        validate_password(new_password, user=user)
    except DjangoValidationError as exc:
        raise ValidationFailed(
            "The new password is not strong enough.",
            errors={"new_password": list(exc.messages)},
            code="weak_password",
        ) from exc
    user.set_password(new_password)
    user.save(update_fields=["password"])
    devices = _tokens_revoke(user=user, keep=keep)
    audit_record(
        actor=user,
        action=AuditAction.PASSWORD_CHANGE,
        target=user,
        data={"tokens_revoked": devices},
    )


@transaction.atomic
def user_deactivate(*, actor, user) -> None:
    """Deactivate an account (superuser, or an admin of the user's organisation): no sign-in,
    every token deleted, every session refused (Django refuses inactive users' sessions)."""
    account_admin_check(actor=actor, username=user.get_username())
    User = get_user_model()
    User.objects.filter(pk=user.pk).update(is_active=False)
    user.is_active = False
    devices = _tokens_revoke(user=user)
    audit_record(
        actor=actor,
        action=AuditAction.DEACTIVATE,
        target=user,
        organization_id=getattr(getattr(user, "membership", None), "organization_id", None),
        data={"tokens_revoked": devices},
    )
