"""The OpenAPI document, made to say what the API does (drf-spectacular).

- ``paginated(Output)``: the page envelope ``{count, next, previous, results}`` for lists
  that page by hand (``core.api.pagination.Pagination``), as one named component each.
- ``AutoSchema``: a tag per app (from the view's module) and a summary per operation.
- ``postprocess``: one ``Error`` component and the error answers each operation can give
  (``ERROR_STATUSES``); ``additionalProperties: false`` on the bodies of
  ``StrictBodySerializer``; the text rule (``core.text``) as a ``pattern`` on request strings
  and string query parameters, so that generated clients and fuzzers send what is accepted.
"""

from __future__ import annotations

import re
from typing import Any

from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.utils import inline_serializer
from rest_framework import serializers

from core.api.params import StrictBodySerializer

# What the tag of each app's operations is called.
APP_TAGS = {
    "services_directory": "directory",
    "referral": "referrals",
    "coordination": "coordination",
    "audit": "audit",
}

THROTTLED_MARK = "x-continuum-throttled"
_paginated: dict[str, type[serializers.Serializer]] = {}


def paginated(output: type[serializers.Serializer]) -> serializers.Serializer:
    """The page envelope around ``output`` items, as ``Paginated<Output>List``."""
    name = f"Paginated{output.__name__.removesuffix('Serializer')}List"
    if name not in _paginated:
        _paginated[name] = inline_serializer(
            name=name,
            fields={
                "count": serializers.IntegerField(min_value=0),
                "next": serializers.URLField(allow_null=True),
                "previous": serializers.URLField(allow_null=True),
                "results": output(many=True),
            },
        ).__class__
    return _paginated[name]()


class AutoSchema(SpectacularAutoSchema):
    def get_tags(self) -> list[str]:
        app = type(self.view).__module__.split(".")[0]
        return [APP_TAGS[app]] if app in APP_TAGS else super().get_tags()

    def get_operation(self, *args: Any, **kwargs: Any) -> dict[str, Any] | None:
        operation = super().get_operation(*args, **kwargs)
        if operation is not None and getattr(self.view, "throttle_scope", None):
            operation[THROTTLED_MARK] = True  # the hook documents its 429
        return operation

    def get_operation_id(self) -> str:
        operation_id = super().get_operation_id()
        responses = self.get_response_serializers()
        ok = responses.get(200) if isinstance(responses, dict) else None
        if type(ok).__name__.startswith("Paginated") and operation_id.endswith("_retrieve"):
            return operation_id.removesuffix("_retrieve") + "_list"
        return operation_id

    def get_summary(self) -> str | None:
        """The operation's own summary, else its method docstring's first line, else one
        made from the view's name and the path: "List people", "Read referral",
        "Create contact", "Change service", "Referral transition"."""
        if summary := super().get_summary():
            return summary
        handler = getattr(self.view, self.method.lower(), None)
        doc = ((handler.__doc__ if handler else "") or "").strip()
        if doc:
            return doc.splitlines()[0].rstrip(".")
        words = re.findall(r"[A-Z][a-z]*", type(self.view).__name__.removesuffix("Api"))
        is_collection = words[-1:] == ["List"]
        thing = " ".join(w for w in words if w not in {"List", "Detail"}).lower()
        last = self.path.rstrip("/").rsplit("/", 1)[-1]
        if self.method == "GET":
            if last.startswith("{"):
                return f"Read {thing}"
            if "." in last:
                return f"Read {thing or last}"
            return f"List {last.replace('-', ' ')}" if is_collection else f"Read {thing}"
        if self.method == "PATCH":
            return f"Change {thing}"
        return f"Create {thing}" if is_collection else thing.capitalize()


# --- the postprocessing hook --------------------------------------------------------------

ERROR_COMPONENT = {
    "type": "object",
    "description": "Every error under /api/: a message, a stable code, and the fields to "
    "blame (empty when none is).",
    "properties": {
        "detail": {"type": "string"},
        "code": {"type": "string", "example": "invalid"},
        "errors": {
            "type": "object",
            "additionalProperties": {"type": "array", "items": {"type": "string"}},
        },
    },
    "required": ["detail", "code", "errors"],
}
ERROR_DESCRIPTIONS = {
    "400": "Invalid input: `errors` names each field (or parameter) and why.",
    "401": "Not signed in (`not_authenticated`) or a bad token (`authentication_failed`).",
    "403": "Signed in, but this change is not yours to make (`forbidden`).",
    "404": "No such object, or one you may not see (`not_found`): the same answer.",
    "406": "No answer in the media type asked for (`not_acceptable`).",
    "409": "Conflicts with the current state (`conflict`), or the same Idempotency-Key is "
    "still in progress (`idempotency_in_progress`); nothing changed.",
    "415": "The body is not JSON (`unsupported_media_type`).",
    "422": "This Idempotency-Key was used for a different request (`idempotency_key_reused`).",
    "429": "Too many requests (`throttled`); `Retry-After` says when to try again.",
}
CONTROL = r"\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f"
TEXT_PATTERN = rf"^[^{CONTROL}]*$"
# DRF trims strings and refuses blank ones unless allowed: at least one visible character.
NON_BLANK_PATTERN = rf"^[^{CONTROL}]*[^\s{CONTROL}][^{CONTROL}]*$"


def _strict_components() -> set[str]:
    names: set[str] = set()
    todo = [StrictBodySerializer]
    while todo:
        cls = todo.pop()
        todo.extend(cls.__subclasses__())
        if cls is not StrictBodySerializer:
            base = cls.__name__.removesuffix("Serializer")
            names.update({f"{base}Request", f"Patched{base}Request"})
    return names


def _text_rule(schema: dict[str, Any], *, components: dict[str, Any]) -> None:
    """The text rule as patterns on every plain string of a request schema, in place."""
    if "$ref" in schema or not isinstance(schema, dict):
        return
    kind = schema.get("type")
    if kind == "string" and not ({"format", "enum", "pattern"} & set(schema)):
        blank_ok = schema.get("minLength", 0) == 0
        schema["pattern"] = TEXT_PATTERN if blank_ok else NON_BLANK_PATTERN
    for sub in ("items", "additionalProperties"):
        if isinstance(schema.get(sub), dict):
            _text_rule(schema[sub], components=components)
    for prop in schema.get("properties", {}).values():
        _text_rule(prop, components=components)
    for key in ("oneOf", "anyOf", "allOf"):
        for sub in schema.get(key, []):
            _text_rule(sub, components=components)


TIME_PATTERN = r"^[0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?$"


def _loose_output_formats(schema: dict[str, Any]) -> None:
    """Answers as they are stored: e-mail and web addresses may be blank (``""`` is no
    ``email`` or ``uri``), and times of day carry no offset (``"08:00:00"`` is no RFC 3339
    ``time``)."""
    if not isinstance(schema, dict) or "$ref" in schema:
        return
    if schema.get("type") == "string" and schema.get("format") in {"email", "uri"}:
        del schema["format"]
    if schema.get("type") == "string" and schema.get("format") == "time":
        del schema["format"]
        schema["pattern"] = TIME_PATTERN
    for prop in schema.get("properties", {}).values():
        _loose_output_formats(prop)
    if isinstance(schema.get("items"), dict):
        _loose_output_formats(schema["items"])


def _error_statuses(method: str, operation: dict[str, Any]) -> list[str]:
    statuses = ["400", "401", "404", "406"]
    if method in {"post", "patch", "put", "delete"}:
        statuses += ["403", "409"]
    if "requestBody" in operation:
        statuses.append("415")
    parameters = {p.get("name") for p in operation.get("parameters", [])}
    if "Idempotency-Key" in parameters:
        statuses.append("422")
    if operation.pop(THROTTLED_MARK, False):
        statuses.append("429")
    return sorted(set(statuses))


def postprocess(result: dict[str, Any], generator, request, public) -> dict[str, Any]:
    components = result.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    schemas["Error"] = ERROR_COMPONENT
    error_ref = {"$ref": "#/components/schemas/Error"}

    for name in _strict_components() & set(schemas):
        schemas[name]["additionalProperties"] = False
    for name, schema in schemas.items():
        if name.endswith("Request"):
            _text_rule(schema, components=schemas)
        else:
            _loose_output_formats(schema)

    for methods in result.get("paths", {}).values():
        for method, operation in methods.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            for parameter in operation.get("parameters", []):
                if parameter.get("in") in {"query", "header"}:
                    _text_rule(parameter.get("schema", {}), components=schemas)
            responses = operation["responses"]
            for status in _error_statuses(method, operation):
                if status not in responses:
                    responses[status] = {
                        "description": ERROR_DESCRIPTIONS[status],
                        "content": {"application/json": {"schema": error_ref}},
                    }
            if "429" in responses:
                responses["429"].setdefault(
                    "headers",
                    {"Retry-After": {"schema": {"type": "integer"}, "description": "seconds"}},
                )
    return result
