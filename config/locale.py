"""Which language a request is answered in, and the switcher that changes it.

In order: for the API, a language the client names in ``Accept-Language`` (a phone says what
its user reads); then the member's saved choice (``Membership.language``, set by the switcher
on every page); then the switcher's cookie (a visitor not signed in); then
``Accept-Language``; then the default language of the member's task force; then English.
It lives in ``config`` because it reads the directory's memberships and task forces.
"""

from __future__ import annotations

from django.conf import settings
from django.middleware.locale import LocaleMiddleware
from django.utils import translation
from django.utils.translation.trans_real import parse_accept_lang_header
from django.views.decorators.http import require_POST
from django.views.i18n import set_language

from referral.selectors.access import membership_of
from services_directory.services import membership_language_set

API_PREFIXES = ("/api/", "/fhir/")


def _supported(code: str | None) -> str | None:
    if not code:
        return None
    try:
        return translation.get_supported_language_variant(code)
    except LookupError:
        return None


def language_from_header(header: str) -> str | None:
    """The first language of ``Accept-Language`` (by weight) that we have, or None."""
    for code, _weight in parse_accept_lang_header(header or ""):
        if code == "*":
            break
        found = _supported(code)
        if found is not None:
            return found
    return None


def task_force_language(membership) -> str | None:
    if membership is None:
        return None
    return (
        membership.organization.task_forces.order_by("id")
        .values_list("default_language", flat=True)
        .first()
    )


def language_for(request) -> str:
    membership = membership_of(getattr(request, "user", None))
    from_header = language_from_header(request.META.get("HTTP_ACCEPT_LANGUAGE", ""))
    if from_header and request.path.startswith(API_PREFIXES):
        return from_header
    for candidate in (
        membership.language if membership is not None else None,
        request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME),
    ):
        found = _supported(candidate)
        if found is not None:
            return found
    if from_header:
        return from_header
    return _supported(task_force_language(membership)) or settings.LANGUAGE_CODE


class MemberLocaleMiddleware(LocaleMiddleware):
    """Django's ``LocaleMiddleware`` (``Content-Language``, ``Vary: Accept-Language``) with
    the order above; it runs after authentication so that it knows the member."""

    def process_request(self, request):
        translation.activate(language_for(request))
        request.LANGUAGE_CODE = translation.get_language()


@require_POST
def language_set(request):
    """Django's ``set_language`` (the cookie, back to ``next``), and for a signed-in member
    the choice kept on their membership, so it follows them to every device."""
    response = set_language(request)
    language = _supported(request.POST.get("language"))
    if language is not None and request.user.is_authenticated:
        membership_language_set(user=request.user, language=language)
    return response
