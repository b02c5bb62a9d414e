"""Sessions of users who must sign in with a second factor (``accounts.second_factor_required``)
reach only the enrolment page, sign-out and static files until a second factor is verified
in that session (django-otp's ``OTPMiddleware`` runs first and says whether it is)."""

from __future__ import annotations

from django.http import JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _

from services_directory import accounts


class SecondFactorMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and not user.is_verified()
            and accounts.second_factor_required(user)
            and not self._open_path(request.path)
        ):
            if request.path.startswith("/api/"):
                return JsonResponse(
                    {
                        "detail": _("This account signs in with a second factor."),
                        "code": "otp_required",
                        "errors": {},
                    },
                    status=403,
                )
            return redirect(reverse("two-factor"))
        return self.get_response(request)

    @staticmethod
    def _open_path(path: str) -> bool:
        return path in {reverse("two-factor"), reverse("logout"), reverse("login")} or (
            path.startswith(("/static/", "/i18n/"))
        )
