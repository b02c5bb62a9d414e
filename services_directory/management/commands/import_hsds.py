"""``manage.py import_hsds PATH``: upsert HSDS 3.0 JSON into the directory."""

from __future__ import annotations

import sys
import time

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from services_directory.hsds.importer import hsds_import
from services_directory.models import OrganizationKind, Stage, validate_time_zone


class Command(BaseCommand):
    help = (
        "Import HSDS 3.0 JSON (a file, or a folder of organizations.json, services.json, "
        "locations.json). Upserts by id; bad records are reported and the rest imported; "
        "exits non-zero when any record failed."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("path")
        parser.add_argument(
            "--default-kind",
            choices=OrganizationKind.values,
            help="Kind of a new organisation whose record does not say (else left blank).",
        )
        parser.add_argument(
            "--default-stage",
            choices=Stage.values,
            help="Stage of a new service whose record has no Continuum stage and no taxonomy "
            "term that maps to one (else it is imported unclassified).",
        )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Run the import and roll it back: report what would happen, change nothing.",
        )
        progress = parser.add_mutually_exclusive_group()
        progress.add_argument(
            "--progress",
            action="store_true",
            default=None,
            help="Show progress on stderr (the default when stderr is a terminal).",
        )
        progress.add_argument("--no-progress", dest="progress", action="store_false")
        parser.add_argument(
            "--time-zone",
            default=None,
            help=f"Time zone of a new location with no Continuum time_zone attribute "
            f"(default {settings.TIME_ZONE}).",
        )

    def handle(self, *args, **options) -> None:
        if options["time_zone"]:
            try:
                validate_time_zone(options["time_zone"])
            except ValidationError as exc:
                raise CommandError(exc.messages[0]) from None
        show = options["progress"]
        if show is None:
            show = getattr(self.stderr, "isatty", lambda: False)() or sys.stderr.isatty()
        report = hsds_import(
            path=options["path"],
            default_kind=options["default_kind"],
            default_stage=options["default_stage"],
            time_zone=options["time_zone"],
            dry_run=options["dry_run"],
            progress=_Progress(self.stderr) if show else None,
        )
        for kind, record_id, message in report.warnings:
            self.stderr.write(f"warning: {kind} {record_id}: {message}")
        for kind, record_id, reason in report.errors:
            self.stderr.write(f"error: {kind} {record_id}: {reason}")
        for service_id in report.unclassified:
            self.stdout.write(f"unclassified: service {service_id}")
        self.stdout.write(report.summary())
        if report.errors:
            if report.dry_run:
                raise CommandError(f"{len(report.errors)} record(s) would fail.")
            raise CommandError(f"{len(report.errors)} record(s) failed; the rest were imported.")


class _Progress:
    """``done/total (percent), records a second`` on one stderr line, at most 10 times a
    second, and a last line at the end."""

    def __init__(self, stream) -> None:
        self.stream = stream
        self.started = time.monotonic()
        self.shown = 0.0

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        if done < total and now - self.shown < 0.1:
            return
        self.shown = now
        rate = done / max(now - self.started, 1e-6)
        percent = 100 * done // max(total, 1)
        self.stream.write(
            f"\rimporting: {done}/{total} records ({percent}%), {rate:.0f}/s",
            ending="\n" if done == total else "",
        )
        self.stream.flush()
