"""The language of what ``manage.py`` commands tell the person at the terminal."""

from __future__ import annotations

import functools
import os
from collections.abc import Callable

from django.utils import translation


def operator_language() -> str | None:
    """``CONTINUUM_LANGUAGE``, else the terminal's locale (``LC_ALL``, ``LC_MESSAGES``,
    ``LANG``: ``pt_PT.UTF-8`` is Portuguese), when it is one of the site's languages."""
    for name in ("CONTINUUM_LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(name, "").split(".")[0].replace("_", "-")
        if not value or value in ("C", "POSIX"):
            continue
        try:
            return translation.get_supported_language_variant(value)
        except LookupError:
            continue
    return None


def in_operator_language(handle: Callable) -> Callable:
    """Decorates a command's ``handle``: it speaks the operator's language (and leaves the
    active language as it was afterwards)."""

    @functools.wraps(handle)
    def wrapper(*args, **kwargs):
        with translation.override(operator_language() or translation.get_language()):
            return handle(*args, **kwargs)

    return wrapper
