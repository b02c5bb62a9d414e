"""``manage.py export_hsds PATH``: write the directory as HSDS 3.0 JSON."""

from __future__ import annotations

from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from core.management.language import in_operator_language
from services_directory.hsds.exporter import hsds_export


class Command(BaseCommand):
    help = "Write the directory to the folder PATH as organizations.json and services.json."

    def add_arguments(self, parser) -> None:
        parser.add_argument("path")

    @in_operator_language
    def handle(self, *args, **options) -> None:
        report = hsds_export(path=options["path"])
        self.stdout.write(
            _("%(organizations)s organizations and %(services)s services written to %(path)s")
            % {
                "organizations": report.organizations,
                "services": report.services,
                "path": report.path,
            }
        )
