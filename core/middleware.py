"""Middleware of our own: the text rule at the door, and the headers Django has no
setting for.

The text rule (``core.text``) covers what no serializer or form field sees. The web pages
read ``request.POST`` and ``request.GET`` directly in places, and Django's form fields refuse
NUL but not the other control characters. ``TextRuleMiddleware`` refuses a request whose
query string, or form body outside the API, has a forbidden character in any name or value,
before a view runs: 400 naming the field, nothing changed. API bodies are JSON, checked by
the parser (``core.api.parsers``); their query strings are checked here too.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse, QueryDict

from core.api.errors import API_PREFIX, error_body
from core.text import FORBIDDEN_CHARACTERS_MESSAGE, has_forbidden_characters, printable_name

FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def _refused_field(values: QueryDict) -> str | None:
    for name, items in values.lists():
        if has_forbidden_characters(name) or any(
            isinstance(item, str) and has_forbidden_characters(item) for item in items
        ):
            return printable_name(name)
    return None


class TextRuleMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        is_api = request.path.startswith(API_PREFIX)
        field = _refused_field(request.GET)
        if (
            field is None
            and not is_api
            and request.method == "POST"
            and request.content_type in FORM_TYPES
        ):
            field = _refused_field(request.POST)
        if field is None:
            return self.get_response(request)
        if is_api:
            body = error_body(
                f"Invalid text in {field}.",
                "invalid_characters",
                {field: [FORBIDDEN_CHARACTERS_MESSAGE]},
            )
            return JsonResponse(body, status=400)
        return HttpResponse(
            f"{field}: {FORBIDDEN_CHARACTERS_MESSAGE} Nothing was saved; go back and correct it.",
            status=400,
            content_type="text/plain; charset=utf-8",
        )


# Geolocation for our own pages only: the directory's "near me" asks the browser for it.
DEFAULT_PERMISSIONS_POLICY = (
    "camera=(), microphone=(), geolocation=(self), payment=(), usb=(), serial=(), bluetooth=(), "
    "magnetometer=(), gyroscope=(), accelerometer=(), display-capture=(), "
    "interest-cohort=(), browsing-topics=()"
)


class PermissionsPolicyMiddleware:
    """``Permissions-Policy``: the browser features no page of ours uses are switched off, so
    that injected code could not reach a camera, a microphone or the location either."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.policy = getattr(settings, "PERMISSIONS_POLICY", DEFAULT_PERMISSIONS_POLICY)

    def __call__(self, request):
        response = self.get_response(request)
        response.headers.setdefault("Permissions-Policy", self.policy)
        return response
