"""Sign-in pages: the login form with its second-factor code, and the enrolment page of an
authenticator app (a QR code drawn as SVG on the server, no script) with recovery codes."""

from __future__ import annotations

from base64 import b32encode

import segno
from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import user_login_failed
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import AuthenticationForm
from django.shortcuts import render
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods
from django_otp import login as otp_login

from core.errors import DomainError
from services_directory import accounts


class SecondFactorForm(forms.Form):
    """Mixed into a sign-in form: for those who need one, the code of their second factor
    (the authenticator app's six digits or a recovery code) after username and password."""

    otp = forms.CharField(
        label=_("Code from your authenticator app (or a recovery code)"),
        required=False,
        max_length=32,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )

    def clean(self):
        cleaned = super().clean()
        user = self.get_user()
        if user is None or not accounts.second_factor_required(user):
            return cleaned
        if not accounts.second_factor_enrolled(user):
            return cleaned  # signed in for enrolment only (SecondFactorMiddleware)
        device = accounts.second_factor_verify(user=user, token=cleaned.get("otp", ""))
        if device is None:
            # A wrong code counts as a failed sign-in, so guessing codes meets the lockout.
            user_login_failed.send(
                sender=__name__,
                credentials={"username": user.get_username()},
                request=self.request,
            )
            raise forms.ValidationError(
                _("Enter the current code from your authenticator app, or a recovery code."),
                code="otp_required",
            )
        user.otp_device = device  # django-otp marks the session verified at login
        return cleaned


class SignInForm(SecondFactorForm, AuthenticationForm):
    pass


class AdminSignInForm(SecondFactorForm, AdminAuthenticationForm):
    pass


class SignInView(auth_views.LoginView):
    form_class = SignInForm


def _qr_svg(url: str) -> str:
    return segno.make(url, error="m").svg_inline(scale=4, dark="#111", light="#fff")


@login_required
@require_http_methods(["GET", "POST"])
def two_factor_page(request):
    """Enrol an authenticator app: scan the QR code, type the code it shows, keep the
    recovery codes. Enrolling again replaces the earlier app."""
    if accounts.second_factor_enrolled(request.user) and not request.user.is_verified():
        return render(request, "registration/two_factor_verify_first.html", status=403)
    device = accounts.second_factor_enrol_start(user=request.user)
    problem = ""
    if request.method == "POST":
        try:
            codes = accounts.second_factor_enrol_confirm(
                user=request.user, device=device, token=request.POST.get("otp", "")
            )
        except DomainError as exc:
            problem = exc.message
        else:
            otp_login(request, device)
            return render(request, "registration/two_factor_done.html", {"codes": codes})
    context = {
        "qr": mark_safe(_qr_svg(device.config_url)),  # noqa: S308 - segno's own SVG
        "secret": b32encode(device.bin_key).decode(),
        "enrolled": accounts.second_factor_enrolled(request.user),
        "required": accounts.second_factor_required(request.user),
        "problem": problem,
    }
    return render(request, "registration/two_factor.html", context, status=400 if problem else 200)
