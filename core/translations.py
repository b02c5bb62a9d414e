"""The catalogues in ``locale/``: compiling them without GNU gettext, and checking that every
marked string is translated in every language.

``locale/en`` holds every marked string (its ``msgid``s, no translations): the reference. Each
other language must translate all of them, none fuzzy, with the same placeholders, and ship
a ``.mo`` that says the same as its ``.po``. ``make messages`` refreshes the catalogues from
the code (GNU gettext's ``xgettext``); ``make translations`` compiles them (polib).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import polib
from django.conf import settings

DOMAINS = ("django", "djangojs")
REFERENCE = "en"
_PYTHON_FORMAT = re.compile(r"%(?:\((\w+)\))?[-#0 +]*\d*(?:\.\d+)?[sdrfi%]")
_BRACE_FORMAT = re.compile(r"\{[^{}]*\}")


def locale_dir() -> Path:
    return Path(settings.LOCALE_PATHS[0])


def catalogue_path(language: str, domain: str, base: Path | None = None) -> Path:
    return (base or locale_dir()) / language / "LC_MESSAGES" / f"{domain}.po"


def placeholders(text: str) -> list[str]:
    found = [m.group(0) for m in _PYTHON_FORMAT.finditer(text) if m.group(0) != "%%"]
    named = sorted(p for p in found if "(" in p)
    return named + sorted(p for p in found if "(" not in p) + sorted(_BRACE_FORMAT.findall(text))


def compile_catalogues(base: Path | None = None) -> list[Path]:
    """Every ``.po`` under ``locale/`` into its ``.mo`` (fuzzy entries left out)."""
    written = []
    for po_path in sorted((base or locale_dir()).glob("*/LC_MESSAGES/*.po")):
        mo_path = po_path.with_suffix(".mo")
        polib.pofile(str(po_path)).save_as_mofile(str(mo_path))
        written.append(mo_path)
    return written


@dataclass
class Problems:
    items: list[str] = field(default_factory=list)

    def add(self, where: str, text: str) -> None:
        self.items.append(f"{where}: {text}")


def _translations(entry: polib.POEntry) -> list[str]:
    if entry.msgid_plural:
        return [entry.msgstr_plural[k] for k in sorted(entry.msgstr_plural)]
    return [entry.msgstr]


def check_catalogues(base: Path | None = None) -> list[str]:
    """What is missing, untranslated, fuzzy or inconsistent, as readable lines (none: all
    good)."""
    problems = Problems()
    languages = [code for code, _name in settings.LANGUAGES if code != REFERENCE]
    for domain in DOMAINS:
        reference_path = catalogue_path(REFERENCE, domain, base)
        if not reference_path.exists():
            problems.add(str(reference_path), "missing (run make messages)")
            continue
        reference = [e for e in polib.pofile(str(reference_path)) if not e.obsolete]
        for language in languages:
            path = catalogue_path(language, domain, base)
            where = f"{language}/{domain}.po"
            if not path.exists():
                problems.add(where, "missing")
                continue
            catalogue = polib.pofile(str(path))
            entries = {(e.msgctxt, e.msgid): e for e in catalogue if not e.obsolete}
            plural_forms = re.search(r"nplurals=(\d+)", catalogue.metadata.get("Plural-Forms", ""))
            if plural_forms is None:
                problems.add(where, "no Plural-Forms header")
            nplurals = int(plural_forms.group(1)) if plural_forms else 2
            for wanted in reference:
                entry = entries.get((wanted.msgctxt, wanted.msgid))
                label = wanted.msgid[:70].replace("\n", " ")
                if entry is None:
                    problems.add(where, f"not in the catalogue: {label!r}")
                    continue
                if entry.fuzzy:
                    problems.add(where, f"fuzzy: {label!r}")
                texts = _translations(entry)
                if not texts or any(not text for text in texts):
                    problems.add(where, f"untranslated: {label!r}")
                    continue
                expected = placeholders(wanted.msgid)
                if not entry.msgid_plural and placeholders(entry.msgstr) != expected:
                    problems.add(where, f"placeholders differ: {label!r}")
                if entry.msgid_plural and len(texts) != nplurals:
                    problems.add(where, f"{len(texts)} plural forms, not {nplurals}: {label!r}")
                if entry.msgid_plural:
                    plural_expected = set(expected) | set(placeholders(wanted.msgid_plural))
                    for text in texts:
                        if not set(placeholders(text)) <= plural_expected:
                            problems.add(where, f"placeholders differ: {label!r}")
            mo_path = path.with_suffix(".mo")
            if not mo_path.exists():
                problems.add(f"{language}/{domain}.mo", "missing (run make translations)")
                continue
            compiled = {(e.msgctxt, e.msgid): _translations(e) for e in polib.mofile(str(mo_path))}
            for entry in catalogue.translated_entries():
                if compiled.get((entry.msgctxt, entry.msgid)) != _translations(entry):
                    problems.add(
                        f"{language}/{domain}.mo", "older than its .po (run make translations)"
                    )
                    break
    return problems.items


def extracted_msgids(base: Path, domain: str) -> set[tuple[str | None, str]]:
    path = catalogue_path(REFERENCE, domain, base)
    return {(e.msgctxt, e.msgid) for e in polib.pofile(str(path)) if not e.obsolete}
