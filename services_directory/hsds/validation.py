"""The values of an HSDS record, checked and turned into model values for the importer.

Each helper takes the value and where it stands in the record (``service.phones[0].number``)
and raises ``RecordError`` with that place and the reason; ``RECORD_ERRORS`` are the errors
that make a record bad rather than the import broken, and ``_reason`` words any of them for
the import report.
"""

from __future__ import annotations

import math
import uuid
from datetime import date, time
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError

from core.errors import DomainError
from services_directory.hsds.mapping import CONTINUUM


class RecordError(Exception):
    """A record (or a nested entity) that cannot be imported, with the reason."""


# What makes a record bad rather than the import broken. TypeError and ValueError come from a
# value of the wrong JSON type reaching a model validator (e.g. a list as a time zone).
RECORD_ERRORS = (RecordError, DjangoValidationError, DomainError, TypeError, ValueError)


def _record_id(record: Any) -> str:
    if isinstance(record, dict) and record.get("id") is not None:
        return str(record["id"])
    return "?"


def _uuid(value: Any, where: str) -> uuid.UUID:
    if not isinstance(value, str):
        raise RecordError(f"{where}: an id (UUID) is required")
    try:
        return uuid.UUID(value)
    except ValueError:
        raise RecordError(f"{where}: {value!r} is not a UUID") from None


def _optional_uuid(record: dict, key: str, where: str) -> uuid.UUID | None:
    value = record.get(key)
    return None if value is None else _uuid(value, f"{where}.{key}")


def _text(record: dict, key: str, where: str, *, required: bool = False) -> str:
    value = record.get(key)
    if value is None:
        if required:
            raise RecordError(f"{where}.{key}: required")
        return ""
    if not isinstance(value, str):
        raise RecordError(f"{where}.{key}: must be a string")
    if required and not value.strip():
        raise RecordError(f"{where}.{key}: must not be empty")
    return value


def _whole_number(value: Any, where: str, *, low: int = 0, high: int = 2**31 - 1) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise RecordError(f"{where}: must be a number")
    if not math.isfinite(value) or value != int(value) or not low <= value <= high:
        raise RecordError(f"{where}: must be a whole number from {low} to {high}")
    return int(value)


def _coordinate(value: Any, where: str, limit: int) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise RecordError(f"{where}: must be a number")
    if not -limit <= value <= limit:
        raise RecordError(f"{where}: {value} is outside -{limit}..{limit}")
    return float(value)


def _time(value: Any, where: str) -> time | None:
    """HSDS times are HH:MM[:SS] with an optional offset; we keep the wall-clock time, read
    in the location's time zone (an offset cannot say which zone's rules apply)."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise RecordError(f"{where}: must be a time HH:MM[:SS]")
    try:
        return time.fromisoformat(value).replace(tzinfo=None)
    except ValueError:
        raise RecordError(f"{where}: {value!r} is not a time HH:MM[:SS]") from None


def _date(value: Any, where: str) -> date | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise RecordError(f"{where}: must be a date YYYY-MM-DD")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise RecordError(f"{where}: {value!r} is not a date YYYY-MM-DD") from None


def _list(record: dict, key: str, where: str) -> list[dict] | None:
    """A collection: None when left out (keep what is stored), else a list of objects."""
    if key not in record or record[key] is None:
        return None
    items = record[key]
    if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
        raise RecordError(f"{where}.{key}: must be a list of objects")
    return items


def _extension(record: dict, where: str) -> dict[str, Any]:
    value = record.get(CONTINUUM)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise RecordError(f"{where}.{CONTINUUM}: must be an object")
    return value


def _reason(error: Exception) -> str:
    if isinstance(error, DjangoValidationError):
        if hasattr(error, "error_dict"):
            return "; ".join(
                f"{name}: {' '.join(messages)}" for name, messages in error.message_dict.items()
            )
        return " ".join(error.messages)
    if isinstance(error, DomainError):
        details = "; ".join(f"{k}: {' '.join(v)}" for k, v in error.errors.items())
        return f"{error.message} {details}".strip()
    return str(error)
