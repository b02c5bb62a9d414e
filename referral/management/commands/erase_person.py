"""``manage.py erase_person ID [--yes]``: erase a person by destroying their data key."""

from __future__ import annotations

import uuid
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from referral.models import Person
from referral.services.people import person_erase


class Command(BaseCommand):
    help = (
        "Erase a person (crypto-shredding): their data key is destroyed, so their identifying "
        "fields and the notes sealed under it can never be read again. The row, its dates, "
        "consents and referrals stay; the audit chain stays intact. Asks first unless --yes."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("person_id", help="the person's id (UUID)")
        parser.add_argument("--yes", action="store_true", help="do not ask for confirmation")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            person_id = uuid.UUID(options["person_id"])
        except ValueError as exc:
            raise CommandError(f"{options['person_id']!r} is not a person id (UUID).") from exc
        person = Person.objects.filter(pk=person_id).first()
        if person is None:
            raise CommandError(f"No person with id {person_id}.")
        if person.erased_at is not None:
            self.stdout.write(
                f"Person {person_id} was already erased at {person.erased_at.isoformat()}; "
                "nothing to do."
            )
            return
        if not options["yes"]:
            try:
                answer = input(
                    f"Erase person {person_id} (recorded by {person.organization}) for good? "
                    "This cannot be undone. Type 'yes' to continue: "
                )
            except EOFError:  # no terminal (cron, a pipe that ended): nobody said yes
                raise CommandError(
                    "Not erased: no answer to confirm with. Pass --yes to erase without asking."
                ) from None
            if answer.strip().lower() != "yes":
                raise CommandError("Not erased.")
        person = person_erase(actor=None, person=person)
        self.stdout.write(
            self.style.SUCCESS(
                f"Erased person {person_id} at {person.erased_at.isoformat()}: data key "
                f"destroyed, identifying fields unreadable, blind index cleared. "
                f"{person.referrals.count()} referral(s), {person.consents.count()} consent(s) "
                f"and {person.contacts.count()} contact(s) kept."
            )
        )
