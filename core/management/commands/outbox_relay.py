"""``manage.py outbox_relay``: publish the outbox messages that are due, now.

What the beat sweep does every ``CONTINUUM_OUTBOX_SWEEP_SECONDS``; for the embedded setup
without beat (tasks inline), or after an outage, to send what waited without waiting."""

from __future__ import annotations

from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from core.management.language import in_operator_language
from core.outbox import outbox_relay_due


class Command(BaseCommand):
    help = "Publish (or, with tasks inline, deliver) every outbox message that is due."

    @in_operator_language
    def handle(self, *args, **options) -> None:
        total = 0
        while published := outbox_relay_due():
            total += published
        self.stdout.write(_("relayed %(total)s message(s)") % {"total": total})
