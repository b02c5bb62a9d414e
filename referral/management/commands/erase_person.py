"""``manage.py erase_person ID [--yes]``: erase a person by destroying their data key."""

from __future__ import annotations

import uuid
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext_lazy as _

from core.management.language import in_operator_language
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

    @in_operator_language
    def handle(self, *args: Any, **options: Any) -> None:
        try:
            person_id = uuid.UUID(options["person_id"])
        except ValueError as exc:
            raise CommandError(
                _("%(id)r is not a person id (UUID).") % {"id": options["person_id"]}
            ) from exc
        person = Person.objects.filter(pk=person_id).first()
        if person is None:
            raise CommandError(_("No person with id %(id)s.") % {"id": person_id})
        if person.erased_at is not None:
            self.stdout.write(
                _("Person %(id)s was already erased at %(when)s; nothing to do.")
                % {"id": person_id, "when": person.erased_at.isoformat()}
            )
            return
        if not options["yes"]:
            try:
                answer = input(
                    _(
                        "Erase person %(id)s (recorded by %(organization)s) for good? "
                        "This cannot be undone. Type 'yes' to continue: "
                    )
                    % {"id": person_id, "organization": person.organization}
                )
            except EOFError:  # no terminal (cron, a pipe that ended): nobody said yes
                raise CommandError(
                    _("Not erased: no answer to confirm with. Pass --yes to erase without asking.")
                ) from None
            if answer.strip().lower() != "yes":
                raise CommandError(_("Not erased."))
        person = person_erase(actor=None, person=person)
        self.stdout.write(
            self.style.SUCCESS(
                _(
                    "Erased person %(id)s at %(when)s: data key destroyed, identifying fields "
                    "unreadable, blind index cleared. %(referrals)s referral(s), %(consents)s "
                    "consent(s) and %(contacts)s contact(s) kept."
                )
                % {
                    "id": person_id,
                    "when": person.erased_at.isoformat(),
                    "referrals": person.referrals.count(),
                    "consents": person.consents.count(),
                    "contacts": person.contacts.count(),
                }
            )
        )
