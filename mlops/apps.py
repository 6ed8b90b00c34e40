from django.apps import AppConfig


class MlopsConfig(AppConfig):
    name = "mlops"
    verbose_name = "MLOps"
    default_auto_field = "django.db.models.BigAutoField"
