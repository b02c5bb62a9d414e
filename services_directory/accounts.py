"""Sign-in writes: lifting a lockout, API tokens (django-rest-knox), password changes and
deactivation.

Each function is one transaction with its audit event inside. A password change or a
deactivation ends every other way in at once: the user's other API tokens are deleted, and
their browser sessions stop working because Django checks each session against a hash of
the password (``get_session_auth_hash``) and refuses sessions of inactive users.
"""

from __future__ import annotations

from axes.handlers.proxy import AxesProxyHandler
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_otp import devices_for_user
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

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
        _("Only a superuser or an admin of the user's organisation may do this."),
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


def device_tokens_purge() -> int:
    """Delete expired tokens (daily, Celery beat): they no longer sign anyone in."""
    deleted, _counts = DeviceToken.objects.filter(expiry__lt=timezone.now()).delete()
    return deleted


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
            _("The current password is wrong."),
            errors={"old_password": [_("Wrong password.")]},
            code="wrong_password",
        )
    try:
        validate_password(new_password, user=user)
    except DjangoValidationError as exc:
        raise ValidationFailed(
            _("The new password is not strong enough."),
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


# --- second factor (django-otp: TOTP, and recovery codes as a static device) ----------------

RECOVERY_CODES = 10
SECOND_FACTOR_ROLES = frozenset({Role.COORDINATOR, Role.ORG_ADMIN})


def second_factor_required(user) -> bool:
    """Coordinators, org admins and superusers sign in with a second factor when the
    deployment asks for it (``CONTINUUM_2FA_REQUIRED``, on by default in production)."""
    if not settings.CONTINUUM_2FA_REQUIRED or not getattr(user, "is_authenticated", False):
        return False
    if user.is_superuser:
        return True
    membership = getattr(user, "membership", None)
    try:
        role = membership.role if membership is not None else None
    except Membership.DoesNotExist:
        role = None
    return role in SECOND_FACTOR_ROLES


def second_factor_enrolled(user) -> bool:
    """An authenticator app is confirmed (recovery codes alone are not a way to enrol)."""
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def second_factor_verify(*, user, token: str):
    """The confirmed device of ``user`` (authenticator app or recovery code) that accepts
    ``token`` now, else None. A recovery code works once; an app code once per period."""
    token = (token or "").strip().replace(" ", "")
    if not token:
        return None
    with transaction.atomic():
        for device in devices_for_user(user, confirmed=True, for_verify=True):
            if device.verify_token(token):
                return device
    return None


@transaction.atomic
def second_factor_enrol_start(*, user) -> TOTPDevice:
    """The authenticator-app device being enrolled (unconfirmed until a code proves it)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="authenticator app", confirmed=False)
    return device


@transaction.atomic
def second_factor_enrol_confirm(*, user, device: TOTPDevice, token: str) -> list[str]:
    """Confirm the app with a code it shows; returns fresh recovery codes (shown once).
    Enrolling again replaces the earlier app and recovery codes."""
    if device.user_id != user.pk or device.confirmed or not device.verify_token(token.strip()):
        raise ValidationFailed(
            _("That code does not match: check the time on your phone and try the next code."),
            errors={"otp": [_("Wrong code.")]},
            code="otp_invalid",
        )
    TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    StaticDevice.objects.filter(user=user).delete()
    recovery = StaticDevice.objects.create(user=user, name="recovery codes", confirmed=True)
    codes = [StaticToken.random_token() for _index in range(RECOVERY_CODES)]
    StaticToken.objects.bulk_create([StaticToken(device=recovery, token=c) for c in codes])
    audit_record(actor=user, action=AuditAction.OTP_ENROL, target=user, data={"device": "totp"})
    return codes
