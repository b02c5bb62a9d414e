"""Path converters for ids in URLs.

Django's ``int`` converter takes any run of digits; a 30-digit id then overflows the
database driver (a 500 on SQLite) instead of missing. ``id`` takes 1 to 18 ASCII digits,
which always fit a 64-bit key; anything else matches no view and is a JSON 404.
"""

from __future__ import annotations


class IdConverter:
    regex = "[0-9]{1,18}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value: int) -> str:
        return str(value)
