"""Logins, failed logins and logouts become audit events (connected in ``AuditConfig.ready``)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model

from audit.models import AuditAction
from audit.services import audit_record


def _client(request: Any) -> dict[str, str]:
    if request is None:
        return {}
    return {"ip": request.META.get("REMOTE_ADDR", "")}


def on_user_logged_in(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    audit_record(actor=user, action=AuditAction.LOGIN, target=user, data=_client(request))


def on_user_logged_out(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    audit_record(actor=user, action=AuditAction.LOGOUT, target=user, data=_client(request))


def on_user_login_failed(sender: Any, credentials: dict, request: Any = None, **kwargs) -> None:
    # Django masks the password in ``credentials``; keep only the username all the same.
    username_field = get_user_model().USERNAME_FIELD
    username = credentials.get(username_field) or credentials.get("username") or ""
    audit_record(
        actor=None,
        action=AuditAction.LOGIN_FAILED,
        target=None,
        data={"username": str(username), **_client(request)},
    )
