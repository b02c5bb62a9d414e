"""What text the service accepts from outside, in one rule shared by the API and the pages.

Text fields refuse NUL (PostgreSQL cannot store it and truncates or fails on it), the other
C0 control characters except tab, line feed and carriage return, DEL, and lone UTF-16
surrogates (which JSON's ``\\ud800`` escapes can carry but no database can encode).
Whole numbers from outside are ASCII digits only, bounded to what a 64-bit column holds:
``str.isdigit()`` and ``int()`` accept '²' and '٣', which are not numbers a form means.
"""

from __future__ import annotations

import re

from django.utils.translation import gettext_lazy as _

FORBIDDEN_CHARACTERS_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
FORBIDDEN_CHARACTERS_MESSAGE = _("Control characters (such as NUL) are not allowed.")

WHOLE_NUMBER_RE = re.compile(r"[0-9]{1,19}")
# The largest value a signed 64-bit column (BigAutoField) holds.
WHOLE_NUMBER_MAX = 2**63 - 1


def has_forbidden_characters(text: str) -> bool:
    return FORBIDDEN_CHARACTERS_RE.search(text) is not None


def whole_number(raw: object, *, minimum: int = 0) -> int | None:
    """``raw`` as an int if it is ASCII digits within ``minimum``..2**63-1, else None."""
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        value = raw
    elif isinstance(raw, str) and WHOLE_NUMBER_RE.fullmatch(raw):
        value = int(raw)
    else:
        return None
    return value if minimum <= value <= WHOLE_NUMBER_MAX else None


def printable_name(name: str) -> str:
    """A field name fit to echo back in an error: forbidden characters as ``\\uXXXX``."""
    return FORBIDDEN_CHARACTERS_RE.sub(lambda m: f"\\u{ord(m.group()):04x}", name)
