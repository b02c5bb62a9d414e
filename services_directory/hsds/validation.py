"""The values of an HSDS record, checked and turned into model values for the importer.

Each helper takes the value and where it stands in the record (``service.phones[0].number``)
and raises ``RecordError`` with that place and the reason; ``RECORD_ERRORS`` are the errors
that make a record bad rather than the import broken, and ``_reason`` words any of them for
the import report.
"""

from __future__ import annotations

import math
import uuid
from datetime import date, datetime, time
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError

from core.errors import DomainError
from services_directory.hsds.mapping import CONTINUUM
from services_directory.hsds.taxonomy import TERMS_BY_ID, stage_from_term, stage_terms


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


def _datetime(value: Any, where: str) -> datetime | None:
    """An HSDS datetime with its offset (``2023-03-15T10:30:45.123Z``)."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise RecordError(f"{where}: must be a date-time")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise RecordError(f"{where}: {value!r} is not a date-time") from None
    if parsed.tzinfo is None:
        raise RecordError(f"{where}: {value!r} has no offset (e.g. Z)")
    return parsed


def _list(record: dict, key: str, where: str) -> list[dict] | None:
    """A collection: None when left out (keep what is stored), else a list of objects."""
    if key not in record or record[key] is None:
        return None
    items = record[key]
    if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
        raise RecordError(f"{where}.{key}: must be a list of objects")
    return items


def _extension(record: dict, where: str) -> dict[str, Any]:
    """Continuum's fields of a record, by their old ``continuum`` names (``kind``, ``stage``,
    ``accepting_referrals``, ``capacity_available``, ``referral_sla_hours``, ``time_zone``,
    ``extension``): from its attributes of the Continuum taxonomy, else from the
    ``continuum`` object of older exports. A stage another taxonomy's term maps to
    (``taxonomy.stage_from_term``) is under ``mapped_stage``."""
    value = record.get(CONTINUUM)
    if value is None:
        value = {}
    elif not isinstance(value, dict):
        raise RecordError(f"{where}.{CONTINUUM}: must be an object")
    attributes = record.get("attributes")
    if attributes is None:
        return value
    if not isinstance(attributes, list) or not all(isinstance(a, dict) for a in attributes):
        raise RecordError(f"{where}.attributes: must be a list of objects")
    found: dict[str, Any] = dict(value)
    table: dict[str, str] | None = None
    for index, item in enumerate(attributes):
        here = f"{where}.attributes[{index}]"
        term = item.get("taxonomy_term") if isinstance(item.get("taxonomy_term"), dict) else {}
        term_id = item.get("taxonomy_term_id") or term.get("id")
        ours = TERMS_BY_ID.get(str(term_id)) if term_id is not None else None
        if ours is None:
            if term and "mapped_stage" not in found:
                table = stage_terms() if table is None else table
                mapped = stage_from_term(term, table)
                if mapped is not None:
                    found["mapped_stage"] = mapped
            continue
        given = item.get("value")
        if given is not None and not isinstance(given, str):
            raise RecordError(f"{here}.value: must be a string")
        if ours.parent == "stage":
            found["stage"] = ours.code.split(".", 1)[1]
        elif ours.parent == "organization_kind":
            found["kind"] = ours.code.split(".", 1)[1]
        elif ours.code == "accepting_referrals":
            if given not in ("true", "false"):
                raise RecordError(f"{here}.value: accepting_referrals is true or false")
            found["accepting_referrals"] = given == "true"
            # Continuum's own records always say it; then a missing count means "not tracked".
            found.setdefault("capacity_available", None)
        elif ours.code in ("capacity_available", "referral_sla_hours"):
            if given is None or not given.isdigit():
                raise RecordError(f"{here}.value: {ours.code} is a whole number")
            found[ours.code] = int(given)
        elif ours.code == "time_zone":
            found["time_zone"] = given or ""
        elif ours.code == "phone_extension":
            found["extension"] = given or ""
    return found


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
