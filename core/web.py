"""What the web pages of every app share: GOV.UK's error summary, built from a service's
field errors (``DomainError.errors``) so that each message links to its field."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def field_messages(errors: Mapping[str, Any] | None) -> dict[str, str]:
    """``{field: "message"}`` from ``{field: [messages]}`` or ``{field: "message"}``."""
    messages: dict[str, str] = {}
    for field, problems in (errors or {}).items():
        if isinstance(problems, str):
            messages[field] = problems
        else:
            messages[field] = " ".join(str(p) for p in problems)
    return messages


def error_summary(errors: Mapping[str, Any] | None, field_ids: Mapping[str, str]) -> list[dict]:
    """The error summary's items, in the order of ``field_ids``; each links to its field
    (``#id``), a problem without a field of its own has no link."""
    messages = field_messages(errors)
    items = [{"href": f"#{field_ids[f]}", "text": messages[f]} for f in field_ids if f in messages]
    items += [{"href": "", "text": text} for f, text in messages.items() if f not in field_ids]
    return items
