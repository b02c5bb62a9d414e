"""The API's JSON parser: bounded nesting, and no control characters in keys or strings.

Python's ``json`` recurses once per level, so a body nested ten thousand deep raises
``RecursionError`` (a 500) before any serializer sees it. The depth is measured on the raw
bytes first, outside strings, and anything deeper than ``MAX_DEPTH`` is a 400
``json_too_deep``. After parsing, every key and string is checked against the text rule
(``core.text``): a NUL in a key would otherwise reach the error body, the idempotency store
and the database. Both errors name where in the body the problem is.
"""

from __future__ import annotations

import io
import re
from typing import Any

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

from core.text import FORBIDDEN_CHARACTERS_MESSAGE, has_forbidden_characters, printable_name

MAX_DEPTH = 64
# A JSON string (with its escapes) or one bracket; everything else is skipped.
_TOKENS = re.compile(rb'"(?:[^"\\]|\\.)*"|[\[\]{}]', re.DOTALL)


class BodyRefused(ParseError):
    """A parse error with its own code and the path of what was refused."""

    def __init__(self, detail: str, *, code: str, errors: dict[str, list[str]]) -> None:
        super().__init__(detail, code=code)
        self.errors = errors


def json_depth(raw: bytes) -> int:
    depth = deepest = 0
    for token in _TOKENS.finditer(raw):
        char = token.group()
        if char in (b"[", b"{"):
            depth += 1
            deepest = max(deepest, depth)
        elif char in (b"]", b"}"):
            depth -= 1
    return deepest


def _forbidden_path(value: Any, path: str = "") -> str | None:
    """The path of the first key or string with a forbidden character, else None."""
    if isinstance(value, str):
        return (path or "non_field_errors") if has_forbidden_characters(value) else None
    if isinstance(value, dict):
        for key, item in value.items():
            here = f"{path}.{key}" if path else key
            if has_forbidden_characters(key):
                return printable_name(here)
            if (found := _forbidden_path(item, here)) is not None:
                return found
    elif isinstance(value, list):
        for index, item in enumerate(value):
            here = f"{path}[{index}]" if path else str(index)
            if (found := _forbidden_path(item, here)) is not None:
                return found
    return None


class StrictJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        raw = stream.read() if stream is not None else b""
        if json_depth(raw) > MAX_DEPTH:
            raise BodyRefused(
                f"JSON nested deeper than {MAX_DEPTH} levels.",
                code="json_too_deep",
                errors={"non_field_errors": [f"At most {MAX_DEPTH} levels of nesting."]},
            )
        data = super().parse(io.BytesIO(raw), media_type, parser_context)
        if (path := _forbidden_path(data)) is not None:
            raise BodyRefused(
                f"Invalid text in {path}.",
                code="invalid_characters",
                errors={path: [FORBIDDEN_CHARACTERS_MESSAGE]},
            )
        return data
