from django.apps import AppConfig


class CoordinationConfig(AppConfig):
    name = "coordination"
    verbose_name = "Task-force coordination"
    default_auto_field = "django.db.models.BigAutoField"
