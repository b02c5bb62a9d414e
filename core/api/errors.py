"""One place that turns errors into the API's JSON shape.

Every error body is ``{"detail": "...", "code": "...", "errors": {field: [messages]}}``;
``errors`` is empty when no single field is to blame, and ``code`` is stable for clients to
branch on. Domain errors (``DomainError`` subclasses raised by services) are mapped here so
that views never translate them by hand; DRF's own errors keep their codes (see ``CODES``).
Paths under ``/api/`` that match no view, and errors outside DRF views there, answer the same
shape through ``api_not_found``, ``handler404`` and ``handler500``.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, JsonResponse
from django.utils.translation import gettext
from django.utils.translation import gettext as _
from django.views import defaults
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from core.errors import DomainError

# Messages are put into words when the answer is made, in the language of the request
# (config.locale: Accept-Language for API clients); DRF's own come from its catalogues.

API_PREFIX = "/api/"

# DRF's error classes and the codes they answer with. Every 4xx the API gives has one.
CODES: dict[type[exceptions.APIException], str] = {
    exceptions.ValidationError: "invalid",
    exceptions.ParseError: "parse_error",
    exceptions.NotAuthenticated: "not_authenticated",
    exceptions.AuthenticationFailed: "authentication_failed",
    exceptions.PermissionDenied: "forbidden",
    exceptions.NotFound: "not_found",
    exceptions.MethodNotAllowed: "method_not_allowed",
    exceptions.NotAcceptable: "not_acceptable",
    exceptions.UnsupportedMediaType: "unsupported_media_type",
    exceptions.Throttled: "throttled",
}


def _flatten(detail: Any) -> list[str]:
    if isinstance(detail, dict):
        return [f"{k}: {m}" for k, v in detail.items() for m in _flatten(v)]
    if isinstance(detail, list | tuple):
        return [m for item in detail for m in _flatten(item)]
    return [str(detail)]


def _field_errors(detail: Any) -> dict[str, list[str]]:
    if isinstance(detail, dict):
        return {str(field): _flatten(messages) for field, messages in detail.items()}
    return {"non_field_errors": _flatten(detail)}


def error_body(detail: str, code: str, errors: dict[str, list[str]] | None = None) -> dict:
    return {"detail": detail, "code": code, "errors": errors or {}}


def _code(exc: exceptions.APIException) -> str:
    own = getattr(exc.detail, "code", None)
    # A parse error raised with a code of its own (core.api.parsers) keeps it.
    if isinstance(exc, exceptions.ParseError) and own and own != exceptions.ParseError.default_code:
        return own
    for kind in type(exc).__mro__:
        if kind in CODES:
            return CODES[kind]
    return str(own or exc.default_code)


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, DomainError):
        errors = {
            field: [gettext(str(m)) for m in messages] for field, messages in exc.errors.items()
        }
        return Response(
            error_body(gettext(str(exc.message)), exc.code, errors), status=exc.http_status
        )
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(
            exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        )
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()

    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        errors = _field_errors(exc.detail)
        first_field = next(iter(errors), "")
        detail = (
            _("Invalid input: %(fields)s.") % {"fields": ", ".join(errors)}
            if first_field != "non_field_errors"
            else errors[first_field][0]
        )
        response.data = error_body(detail, "invalid", errors)
        response.status_code = status.HTTP_400_BAD_REQUEST
    else:
        detail = response.data.get("detail") if isinstance(response.data, dict) else None
        response.data = error_body(str(detail or exc), _code(exc), getattr(exc, "errors", None))
    return response


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith(API_PREFIX)


@csrf_exempt  # a token client's POST to a wrong path is a 404, not a CSRF page
def api_not_found(request: HttpRequest, *args: Any, **kwargs: Any) -> JsonResponse:
    """Any path under /api/ that no view serves, malformed ids included."""
    return JsonResponse(error_body(_("Not found."), "not_found"), status=404)


def handler404(request: HttpRequest, exception: Exception | None = None):
    if _is_api(request):
        return api_not_found(request)
    return defaults.page_not_found(request, exception)


def handler500(request: HttpRequest):
    if _is_api(request):
        return JsonResponse(error_body(_("Server error."), "server_error"), status=500)
    return defaults.server_error(request)
