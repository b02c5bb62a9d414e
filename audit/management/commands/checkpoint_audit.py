from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from audit.services import checkpoint_create
from core.management.language import in_operator_language


class Command(BaseCommand):
    help = "Sign a checkpoint of the audit chain head now (Celery beat does it every 10 minutes)."

    @in_operator_language
    def handle(self, *args: Any, **options: Any) -> None:
        checkpoint = checkpoint_create()
        if checkpoint is None:
            self.stdout.write(_("nothing to sign: the chain is empty or already checkpointed"))
            return
        self.stdout.write(
            _("checkpoint #%(sequence)s %(hash)s signed with %(key)s")
            % {"sequence": checkpoint.sequence, "hash": checkpoint.hash, "key": checkpoint.key_id}
        )
