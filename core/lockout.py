"""What a locked sign-in answers (django-axes ``AXES_LOCKOUT_CALLABLE``): 429 with
``Retry-After``, as JSON in the API's error shape under ``/api/`` and as a page elsewhere."""

from __future__ import annotations

import math

from axes.backends import AxesStandaloneBackend
from axes.helpers import get_client_username
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Max
from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import ngettext

from core.client_address import client_ip


def lock_remaining_seconds(request, credentials: dict | None) -> int:
    """Seconds until the lock of this username for this client lifts by itself."""
    cool_off = settings.AXES_COOLOFF_TIME
    username = get_client_username(request, credentials)
    last = AccessAttempt.objects.filter(
        username=username,
        ip_address=getattr(request, "axes_ip_address", None) or client_ip(request),
    ).aggregate(last=Max("attempt_time"))["last"]
    if last is None:
        return int(cool_off.total_seconds())
    remaining = (last + cool_off - timezone.now()).total_seconds()
    return max(1, math.ceil(remaining))


def lockout_response(request, original_response=None, credentials=None) -> HttpResponse:
    retry_after = lock_remaining_seconds(request, credentials)
    minutes = max(1, math.ceil(retry_after / 60))
    message = ngettext(
        "Too many failed sign-ins for this account from your address: it is locked for "
        "%(minutes)d more minute. An admin of your organisation can lift the lock sooner.",
        "Too many failed sign-ins for this account from your address: it is locked for "
        "%(minutes)d more minutes. An admin of your organisation can lift the lock sooner.",
        minutes,
    ) % {"minutes": minutes}
    if request.path.startswith("/api/"):
        response: HttpResponse = JsonResponse(
            {"detail": message, "code": "locked_out", "errors": {}}, status=429
        )
    else:
        response = render(request, "registration/locked_out.html", {"message": message}, status=429)
    response["Retry-After"] = str(retry_after)
    return response


class LockoutBackend(AxesStandaloneBackend):
    """django-axes' guard, first of ``AUTHENTICATION_BACKENDS``. A sign-in without a request
    (``authenticate()`` called from code, ``Client.login`` in tests) has no client to lock
    and is let through to the password check; every way in over HTTP passes its request."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)
