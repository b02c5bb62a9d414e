"""Query parameters, parsed strictly: an unknown parameter or a malformed value is a 400
that names the parameter, never a silent no-op and never a 500."""

from __future__ import annotations

import math
import re

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.exceptions import ValidationError

PAGING_PARAMS = frozenset({"page", "page_size", "format"})


class StrictQuerySerializer(serializers.Serializer):
    """Validates ``request.query_params``; rejects parameters it does not declare."""

    def to_internal_value(self, data):
        allowed = set(self.fields) | PAGING_PARAMS
        unknown = sorted(set(data.keys()) - allowed)
        if unknown:
            raise ValidationError(
                {
                    name: [f"Unknown parameter. Known: {', '.join(sorted(self.fields))}."]
                    for name in unknown
                }
            )
        repeated = sorted(k for k in self.fields if len(data.getlist(k, [])) > 1)
        if repeated:
            raise ValidationError({name: ["Give this parameter once."] for name in repeated})
        return super().to_internal_value({k: data.get(k) for k in data if k in self.fields})


class StrictBodySerializer(serializers.Serializer):
    """Rejects body fields it does not declare: a misspelt field must not silently drop data."""

    def to_internal_value(self, data):
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError({name: ["Unknown field."] for name in unknown})
        return super().to_internal_value(data)


@extend_schema_field(OpenApiTypes.BOOL)
class StrictBooleanField(serializers.Field):
    """``true``/``false`` (also 1/0, yes/no); anything else is an error, not False."""

    default_error_messages = {"invalid": "Must be true or false."}
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
        "invalid": "Must be 'latitude,longitude' in decimal degrees, e.g. 52.52,13.40.",
        "range": "Latitude must be within -90..90 and longitude within -180..180.",
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
            "Must be an ISO 639 code (e.g. ar, en, pt-BR) or a language name (e.g. Arabic)."
        )
    return value
