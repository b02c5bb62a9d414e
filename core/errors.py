"""Coded domain errors, raised by services and mapped to HTTP in one exception handler.

They live in the lowest layer so that every app can raise them without importing upwards.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _


class DomainError(Exception):
    http_status = 400
    code = "invalid"

    def __init__(
        self, message: str, *, errors: dict[str, list[str]] | None = None, code: str | None = None
    ) -> None:
        # Put into words now, in the language of the request (messages are marked lazily).
        message = str(message)
        super().__init__(message)
        self.message = message
        self.errors = {
            str(field): [str(m) for m in messages] for field, messages in (errors or {}).items()
        }
        if code:
            self.code = code


class ValidationFailed(DomainError):
    http_status = 400
    code = "invalid"


class NotFound(DomainError):
    """Missing and forbidden look the same: callers cannot learn that an object exists."""

    http_status = 404
    code = "not_found"

    def __init__(self, message: str = _("Not found."), **kwargs) -> None:
        super().__init__(message, **kwargs)


class Forbidden(DomainError):
    """For objects the user may read but not change (the directory); never for hidden ones."""

    http_status = 403
    code = "forbidden"


class Conflict(DomainError):
    http_status = 409
    code = "conflict"
