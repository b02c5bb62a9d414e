from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from audit.verification import stored_checkpoints


class Command(BaseCommand):
    help = (
        "Print every signed checkpoint as JSON lines, for an outside party to keep "
        "(verify_audit --from-checkpoint FILE checks the chain against them)."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--since", type=int, default=0, help="only checkpoints after this")

    def handle(self, *args: Any, **options: Any) -> None:
        for checkpoint in stored_checkpoints():
            if checkpoint.sequence > options["since"]:
                self.stdout.write(checkpoint.to_json())
