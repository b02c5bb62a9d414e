from django.apps import AppConfig


class CoreConfig(AppConfig):
    """The ground floor: errors, Idempotency-Key, paging and parameters every app shares.

    It imports no other app of the project; every app may import it."""

    name = "core"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.urls import register_converter

        from core.api.converters import IdConverter

        # Registered before any URLconf is loaded: apps' urls use ``<id:...>``.
        register_converter(IdConverter, "id")

        from core import checks  # noqa: F401 - registers the system checks
