"""``manage.py check_translations [--extract]``: fails when a marked string has no
translation in any of the languages (or a fuzzy one, or other placeholders), or a ``.mo`` is
older than its ``.po``. With ``--extract`` (needs GNU gettext's ``xgettext``), also fails when
the code marks a string the catalogues do not have yet: run ``make messages``."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from core.translations import DOMAINS, check_catalogues, extracted_msgids, locale_dir

IGNORE = (
    ".venv/*",
    "node_modules/*",
    "static/vendor/*",
    "staticfiles/*",
    "tests/*",
    "bench/*",
    "var/*",
    "assets/*",
)


def extract_into(target: Path) -> None:
    """``makemessages`` for the reference language on a copy of the code in ``target``
    (its own ``locale/en``), so that the catalogues in the repository stay as they are."""
    source = Path(settings.BASE_DIR)
    skip = shutil.ignore_patterns(
        ".*",
        "node_modules",
        "vendor",
        "staticfiles",
        "tests",
        "bench",
        "var",
        "assets",
        "locale",
        "__pycache__",
        "*.sqlite3",
    )
    shutil.copytree(source, target, ignore=skip, dirs_exist_ok=True)
    (target / "locale").mkdir()
    command = [sys.executable, "manage.py", "makemessages", "-l", "en", "--no-location"]
    command += [arg for pattern in IGNORE for arg in ("-i", pattern)]
    env = {**os.environ, "PYTHONPATH": str(target)}
    for domain in DOMAINS:
        subprocess.run(  # noqa: S603 - our own manage.py, fixed arguments
            [*command, "-d", domain], cwd=target, env=env, check=True, capture_output=True
        )


class Command(BaseCommand):
    help = "Check that every marked string is translated in every language of the site."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--extract",
            action="store_true",
            help="also extract the marked strings from the code (needs xgettext) and fail on "
            "any the catalogues lack",
        )

    def handle(self, *args, extract: bool = False, **options) -> None:
        problems = check_catalogues()
        if extract:
            if shutil.which("xgettext") is None:
                raise CommandError("--extract needs GNU gettext (xgettext) on the PATH")
            with tempfile.TemporaryDirectory() as scratch:
                extract_into(Path(scratch))
                for domain in DOMAINS:
                    fresh = extracted_msgids(Path(scratch) / "locale", domain)
                    known = extracted_msgids(locale_dir(), domain)
                    for _context, msgid in sorted(fresh - known, key=lambda k: k[1]):
                        label = msgid[:70].replace("\n", " ")
                        problems.append(
                            f"en/{domain}.po: marked in the code, not in the "
                            f"catalogues (run make messages): {label!r}"
                        )
        for problem in problems:
            self.stderr.write(problem)
        if problems:
            raise CommandError(f"{len(problems)} translation problem(s)")
        self.stdout.write("translations complete: every marked string in every language")
