from django.apps import AppConfig
from django.db.models.signals import post_migrate


class ReferralConfig(AppConfig):
    name = "referral"
    verbose_name = "Referrals"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from core.idempotency import answer_vault_register
        from referral import permissions
        from referral.answers import PersonAnswerVault

        answer_vault_register(PersonAnswerVault())

        # Permission rows are recreated (with new ids) whenever the database is flushed or
        # migrated; the cached ids must not outlive them.
        post_migrate.connect(
            permissions.permission_cache_clear, dispatch_uid="referral-permission-cache"
        )
