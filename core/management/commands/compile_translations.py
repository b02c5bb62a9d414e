"""``manage.py compile_translations``: every ``locale/*/LC_MESSAGES/*.po`` into its ``.mo``,
with Python's polib (no GNU gettext needed, unlike ``compilemessages``)."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from core.translations import compile_catalogues


class Command(BaseCommand):
    help = "Compile the translation catalogues (locale/) into .mo files, without GNU gettext."

    def handle(self, *args, **options) -> None:
        written = compile_catalogues()
        self.stdout.write(f"compiled {len(written)} catalogue(s)")
