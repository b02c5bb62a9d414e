from django.apps import AppConfig


class CoreConfig(AppConfig):
    """The ground floor: errors, Idempotency-Key, paging and parameters every app shares.

    It imports no other app of the project; every app may import it."""

    name = "core"
    default_auto_field = "django.db.models.BigAutoField"
