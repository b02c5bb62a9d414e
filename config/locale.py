"""Which language a request is answered in, and the switcher that changes it.

In order: for the API, a language the client names in ``Accept-Language`` (a phone says what
its user reads); then the member's saved choice (``Membership.language``, set by the switcher
on every page); then the switcher's cookie (a visitor not signed in); then
``Accept-Language``; then the default language of the member's task force; then English.
A member's pages show times in their task force's time zone.
It lives in ``config`` because it reads the directory's memberships and task forces.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from django.conf import settings
from django.middleware.locale import LocaleMiddleware
from django.utils import timezone, translation
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


def task_force_settings(request, membership) -> tuple[str, str] | None:
    """(time zone, default language) of the member's task force (its first, by id), read
    once per request."""
    if membership is None:
        return None
    if not hasattr(request, "_task_force_settings"):
        request._task_force_settings = (
            membership.organization.task_forces.order_by("id")
            .values_list("time_zone", "default_language")
            .first()
        )
    return request._task_force_settings


def language_for(request, membership) -> str:
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
    found = task_force_settings(request, membership)
    return _supported(found[1] if found else None) or settings.LANGUAGE_CODE


class MemberLocaleMiddleware(LocaleMiddleware):
    """Django's ``LocaleMiddleware`` (``Content-Language``, ``Vary: Accept-Language``) with
    the order above; it runs after authentication so that it knows the member. A member's
    pages also show times in their task force's time zone (the API keeps UTC)."""

    def process_request(self, request):
        membership = membership_of(getattr(request, "user", None))
        translation.activate(language_for(request, membership))
        request.LANGUAGE_CODE = translation.get_language()
        if membership is not None and not request.path.startswith(API_PREFIXES):
            found = task_force_settings(request, membership)
            if found is not None:
                timezone.activate(ZoneInfo(found[0]))

    def process_response(self, request, response):
        response = super().process_response(request, response)
        # The answer is rendered: nothing after it in this thread (a task run inline, the
        # next request's middleware before this one) inherits the reader's language or zone.
        translation.deactivate()
        timezone.deactivate()
        return response


@require_POST
def language_set(request):
    """Django's ``set_language`` (the cookie, back to ``next``), and for a signed-in member
    the choice kept on their membership, so it follows them to every device."""
    response = set_language(request)
    language = _supported(request.POST.get("language"))
    if language is not None and request.user.is_authenticated:
        membership_language_set(user=request.user, language=language)
    return response
