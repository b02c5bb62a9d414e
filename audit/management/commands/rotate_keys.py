from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from audit.keys import keys_from_environment
from audit.services import keys_rotate


class Command(BaseCommand):
    help = (
        "Add a new encryption key (and with --signing a new checkpoint signing key) and make "
        "it current. Old keys stay, so old events stay readable. With keys in the key file "
        "the file is rewritten; with CONTINUUM_KEYS set the new keyring JSON is printed for "
        "the secrets manager and nothing changes on disk."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--signing", action="store_true", help="also a new signing key")

    def handle(self, *args: Any, **options: Any) -> None:
        from_environment = keys_from_environment()
        rotation = keys_rotate(actor=None, signing=options["signing"])
        ids = ", ".join(f"{purpose} {key_id}" for purpose, key_id in rotation.new_key_ids.items())
        if from_environment:
            self.stderr.write(
                f"CONTINUUM_KEYS is set: nothing written. New keys: {ids}. Store the JSON "
                "below as CONTINUUM_KEYS in the secrets manager and restart every process."
            )
            self.stdout.write(rotation.keyring.to_json())
            return
        self.stdout.write(f"rotated: {ids} (key file rewritten; restart workers to pick it up)")
