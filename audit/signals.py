"""Logins, failed logins and logouts become audit events (connected in ``AuditConfig.ready``)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model

from audit.models import AuditAction
from audit.services import audit_record
from core.client_address import client_ip


def _client(request: Any) -> dict[str, str]:
    if request is None:
        return {}
    return {"ip": client_ip(request)}


def on_user_logged_in(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    audit_record(actor=user, action=AuditAction.LOGIN, target=user, data=_client(request))


def on_user_logged_out(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    audit_record(actor=user, action=AuditAction.LOGOUT, target=user, data=_client(request))


def on_user_login_failed(sender: Any, credentials: dict, request: Any = None, **kwargs) -> None:
    """Each failure up to the lock is recorded; attempts against a lock are not (django-axes
    refused them before any password was checked), so a burst cannot grow the chain: the
    lock itself is recorded once, by ``on_user_locked_out``."""
    if getattr(request, "axes_locked_out", False):
        return
    # Django masks the password in ``credentials``; keep only the username all the same.
    username_field = get_user_model().USERNAME_FIELD
    username = credentials.get(username_field) or credentials.get("username") or ""
    audit_record(
        actor=None,
        action=AuditAction.LOGIN_FAILED,
        target=None,
        data={"username": str(username), **_client(request)},
    )


def on_user_locked_out(
    sender: Any, request: Any = None, username: str | None = None, ip_address=None, **kwargs
) -> None:
    """django-axes sends this when a lock begins and again for each attempt refused by it;
    only the attempt that made the lock has its failure count set."""
    if request is None or getattr(request, "axes_failures_since_start", None) is None:
        return
    audit_record(
        actor=None,
        action=AuditAction.LOCKOUT,
        target=None,
        data={
            "username": str(username or ""),
            "ip": str(ip_address or ""),
            "failures": request.axes_failures_since_start,
        },
    )
