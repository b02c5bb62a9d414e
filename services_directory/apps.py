from django.apps import AppConfig


class ServicesDirectoryConfig(AppConfig):
    name = "services_directory"
    verbose_name = "Services directory"
    default_auto_field = "django.db.models.BigAutoField"
