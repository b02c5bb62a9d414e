"""The text rule (``core.text``) at the door, for what no serializer or form field sees.

The web pages read ``request.POST`` and ``request.GET`` directly in places, and Django's
form fields refuse NUL but not the other control characters. This refuses a request whose
query string, or form body outside the API, has a forbidden character in any name or
value, before a view runs: 400 naming the field, nothing changed. API bodies are JSON,
checked by the parser (``core.api.parsers``); their query strings are checked here too.
"""

from __future__ import annotations

from collections.abc import Callable

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
