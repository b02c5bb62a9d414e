"""``manage.py import_hsds PATH``: upsert HSDS 3.0 JSON into the directory."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from core.management.language import in_operator_language
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
            help="Kind of a new organisation whose record has no continuum.kind.",
        )
        parser.add_argument(
            "--default-stage",
            choices=Stage.values,
            help="Stage of a new service whose record has no continuum.stage.",
        )
        parser.add_argument(
            "--time-zone",
            default=None,
            help=f"Time zone of a new location with no continuum.time_zone "
            f"(default {settings.TIME_ZONE}).",
        )

    @in_operator_language
    def handle(self, *args, **options) -> None:
        if options["time_zone"]:
            try:
                validate_time_zone(options["time_zone"])
            except ValidationError as exc:
                raise CommandError(exc.messages[0]) from None
        report = hsds_import(
            path=options["path"],
            default_kind=options["default_kind"],
            default_stage=options["default_stage"],
            time_zone=options["time_zone"],
        )
        for kind, record_id, message in report.warnings:
            self.stderr.write(f"warning: {kind} {record_id}: {message}")
        for kind, record_id, reason in report.errors:
            self.stderr.write(f"error: {kind} {record_id}: {reason}")
        self.stdout.write(report.summary())
        if report.errors:
            raise CommandError(
                _("%(count)s record(s) failed; the rest were imported.")
                % {"count": len(report.errors)}
            )
