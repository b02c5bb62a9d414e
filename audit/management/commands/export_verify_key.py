from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand

from audit.crypto import public_key_pem, public_key_raw_base64, verify_keys_from_keyring
from audit.keys import keyring


class Command(BaseCommand):
    help = (
        "Print the public Ed25519 verify keys of the checkpoint signatures as JSON lines "
        "(key_id, raw base64, PEM). Private keys are never printed."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        current = keyring().signing.current
        for key_id, key in sorted(verify_keys_from_keyring().items()):
            self.stdout.write(
                json.dumps(
                    {
                        "key_id": key_id,
                        "algorithm": "Ed25519",
                        "current": key_id == current,
                        "public_key": public_key_raw_base64(key),
                        "pem": public_key_pem(key),
                    },
                    sort_keys=True,
                )
            )
