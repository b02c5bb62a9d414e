"""``manage.py unlock_signin USERNAME [--ip ADDRESS] [--by ADMIN]``: lift a sign-in lock."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from core.errors import DomainError
from core.management.language import in_operator_language
from services_directory.accounts import signin_lock_lift


class Command(BaseCommand):
    help = (
        "Lift the sign-in lock of a username (from one client address with --ip, else from "
        "all). With --by, the lift is done as that user, who must be a superuser or an admin "
        "of the locked user's organisation; without it, as the operator of the server."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--ip", dest="ip_address", default=None)
        parser.add_argument("--by", dest="actor", default=None, help="acting admin's username")

    @in_operator_language
    def handle(self, *args, username: str, ip_address: str | None, actor: str | None, **options):
        acting = None
        if actor:
            acting = get_user_model().objects.filter(username=actor, is_active=True).first()
            if acting is None:
                raise CommandError(_("No active user %(name)r.") % {"name": actor})
        try:
            removed = signin_lock_lift(actor=acting, username=username, ip_address=ip_address)
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        if removed:
            self.stdout.write(
                _("Lifted the lock of %(username)s (records removed: %(removed)s).")
                % {"username": username, "removed": removed}
            )
        else:
            self.stdout.write(_("%(username)s was not locked.") % {"username": username})
