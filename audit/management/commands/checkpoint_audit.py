from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from audit.services import checkpoint_create


class Command(BaseCommand):
    help = "Sign a checkpoint of the audit chain head now (Celery beat does it every 10 minutes)."

    def handle(self, *args: Any, **options: Any) -> None:
        checkpoint = checkpoint_create()
        if checkpoint is None:
            self.stdout.write("nothing to sign: the chain is empty or already checkpointed")
            return
        self.stdout.write(
            f"checkpoint #{checkpoint.sequence} {checkpoint.hash} signed with {checkpoint.key_id}"
        )
