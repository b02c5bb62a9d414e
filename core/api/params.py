"""Query parameters and JSON bodies, parsed strictly: an unknown parameter or field, or a
malformed value, is a 400 that names it, never a silent no-op and never a 500."""

from __future__ import annotations

import math
import re
from typing import Any

from django.core.validators import MaxValueValidator
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.exceptions import ValidationError

from core.text import (
    FORBIDDEN_CHARACTERS_MESSAGE,
    WHOLE_NUMBER_MAX,
    has_forbidden_characters,
    printable_name,
)

PAGING_PARAMS = frozenset({"page", "page_size", "format"})

# Dates and times from outside lie within these years unless a field says otherwise
# (``years``): year 1 overflows time zone arithmetic, and no record here is that old.
DATE_YEARS = (1900, 2100)
# Events of the service (case conferences, action items) happen in these years.
EVENT_YEARS = (2000, 2100)
UUID_RE = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_YEAR_RE = re.compile(r"\s*([0-9]{4})-")


class EventDateField(serializers.DateField):
    """A date of something that happens in the service's lifetime, 2000 to 2100."""

    years = EVENT_YEARS


def _year_error(field: serializers.Field, value: Any) -> str | None:
    low, high = getattr(field, "years", DATE_YEARS)
    match = _YEAR_RE.match(value) if isinstance(value, str) else None
    if match is not None and not low <= int(match.group(1)) <= high:
        return _("Must be within the years %(low)s to %(high)s.") % {"low": low, "high": high}
    return None


def _type_error(field: serializers.Field, value: Any) -> str | None:
    """Why ``value`` (parsed JSON) does not have the JSON type the schema gives ``field``.

    DRF coerces (``12345`` becomes ``"12345"``, ``5`` a UUID, ``"yes"`` True); a documented
    API that takes what it documents must not."""
    if value is None or field.read_only:
        return None  # null is the field's own rule (allow_null)
    if isinstance(field, serializers.UUIDField):
        if not (isinstance(value, str) and UUID_RE.fullmatch(value)):
            return _("Must be a UUID as a string, e.g. 123e4567-e89b-12d3-a456-426614174000.")
        return None
    if isinstance(field, serializers.DateField | serializers.DateTimeField):
        if not isinstance(value, str):
            return _("Must be a date or time as an ISO 8601 string.")
        return _year_error(field, value)
    if isinstance(field, serializers.CharField | serializers.ChoiceField | serializers.TimeField):
        return None if isinstance(value, str) else _("Must be a string.")
    if isinstance(field, serializers.BooleanField | StrictBooleanField):
        return None if isinstance(value, bool) else _("Must be true or false.")
    if isinstance(field, serializers.IntegerField):
        ok = isinstance(value, int) and not isinstance(value, bool)
        return None if ok else _("Must be a whole number.")
    if isinstance(field, serializers.FloatField | serializers.DecimalField):
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        return None if ok else _("Must be a number.")
    if isinstance(field, serializers.ListField):
        if not isinstance(value, list):
            return _("Must be a list.")
        for item in value:
            if (problem := _type_error(field.child, item)) is not None:
                return problem
        return None
    if isinstance(field, serializers.DictField):
        return None if isinstance(value, dict) else _("Must be an object.")
    return None


def _bound_integers(fields) -> None:
    """Integer fields without a maximum get the largest a 64-bit column holds: a bigger
    number overflows the database driver (a 500) instead of failing validation."""
    for field in fields.values():
        if isinstance(field, serializers.IntegerField) and field.max_value is None:
            field.max_value = WHOLE_NUMBER_MAX
            field.validators.append(MaxValueValidator(WHOLE_NUMBER_MAX))
        elif isinstance(field, serializers.ListField) and isinstance(
            field.child, serializers.IntegerField
        ):
            _bound_integers({"child": field.child})


class StrictQuerySerializer(serializers.Serializer):
    """Validates ``request.query_params``; rejects parameters it does not declare, values
    with control characters, whole numbers in other than ASCII digits, and dates out of
    ``DATE_YEARS``."""

    def get_fields(self):
        fields = super().get_fields()
        _bound_integers(fields)
        return fields

    def to_internal_value(self, data):
        allowed = set(self.fields) | PAGING_PARAMS
        unknown = sorted(set(data.keys()) - allowed)
        if unknown:
            raise ValidationError(
                {
                    printable_name(name): [
                        _("Unknown parameter. Known: %(known)s.")
                        % {"known": ", ".join(sorted(self.fields))}
                    ]
                    for name in unknown
                }
            )
        repeated = sorted(k for k in self.fields if len(data.getlist(k, [])) > 1)
        if repeated:
            raise ValidationError({name: [_("Give this parameter once.")] for name in repeated})
        values = {k: data.get(k) for k in data if k in self.fields}
        errors: dict[str, list[str]] = {}
        for name, value in values.items():
            field = self.fields[name]
            if has_forbidden_characters(value):
                errors[name] = [FORBIDDEN_CHARACTERS_MESSAGE]
            elif isinstance(field, serializers.IntegerField) and not re.fullmatch(
                r"-?[0-9]{1,19}", value
            ):
                errors[name] = ["A whole number."]
            elif isinstance(field, serializers.UUIDField) and not UUID_RE.fullmatch(value):
                errors[name] = ["A UUID, e.g. 123e4567-e89b-12d3-a456-426614174000."]
            elif isinstance(field, serializers.DateField | serializers.DateTimeField) and (
                problem := _year_error(field, value)
            ):
                errors[name] = [problem]
        if errors:
            raise ValidationError(errors)
        return super().to_internal_value(values)


class StrictBodySerializer(serializers.Serializer):
    """A JSON body taken as documented: fields it does not declare are refused (a misspelt
    field must not silently drop data), each value must have its field's JSON type
    (``_type_error``), integers are bounded, dates lie within their years. Nested
    serializers of this class check their own fields."""

    def get_fields(self):
        fields = super().get_fields()
        _bound_integers(fields)
        return fields

    def to_internal_value(self, data):
        # Forms (QueryDicts) carry only strings; the JSON type checks are for JSON bodies.
        if isinstance(data, dict) and not hasattr(data, "getlist"):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError(
                    {printable_name(str(name)): [_("Unknown field.")] for name in unknown}
                )
            errors = {
                name: [problem]
                for name, field in self.fields.items()
                if name in data and (problem := _type_error(field, data[name])) is not None
            }
            if errors:
                raise serializers.ValidationError(errors)
        return super().to_internal_value(data)


@extend_schema_field(OpenApiTypes.BOOL)
class StrictBooleanField(serializers.Field):
    """``true``/``false`` (also 1/0, yes/no); anything else is an error, not False."""

    default_error_messages = {"invalid": _("Must be true or false.")}
    TRUE = {"true", "1", "yes"}
    FALSE = {"false", "0", "no"}

    def to_internal_value(self, data):
        text = str(data).strip().lower()
        if text in self.TRUE:
            return True
        if text in self.FALSE:
            return False
        self.fail("invalid")

    def to_representation(self, value):
        return bool(value)


@extend_schema_field(
    {"type": "string", "pattern": r"^-?[0-9.]+,-?[0-9.]+$", "example": "38.7139,-9.1394"}
)
class CoordinatesField(serializers.Field):
    """``lat,lon`` in decimal degrees, WGS 84."""

    default_error_messages = {
        "invalid": _("Must be 'latitude,longitude' in decimal degrees, e.g. 52.52,13.40."),
        "range": _("Latitude must be within -90..90 and longitude within -180..180."),
    }

    def to_internal_value(self, data):
        parts = str(data).split(",")
        if len(parts) != 2:
            self.fail("invalid")
        try:
            latitude, longitude = (float(p.strip()) for p in parts)
        except ValueError:
            self.fail("invalid")
        if not (math.isfinite(latitude) and math.isfinite(longitude)):
            self.fail("invalid")
        if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
            self.fail("range")
        return (latitude, longitude)

    def to_representation(self, value):
        return f"{value[0]},{value[1]}"


LANGUAGE_RE = re.compile(r"^(?:[A-Za-z]{2,3}(?:-[A-Za-z0-9]{2,8})*|[A-Za-z][A-Za-z ()'-]{2,39})$")


def validate_language(value: str) -> str:
    if not LANGUAGE_RE.match(value):
        raise serializers.ValidationError(
            _("Must be an ISO 639 code (e.g. ar, en, pt-BR) or a language name (e.g. Arabic).")
        )
    return value
