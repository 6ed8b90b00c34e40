from django.apps import AppConfig


class MlopsConfig(AppConfig):
    name = "mlops"
    verbose_name = "MLOps"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # Actors and periodic jobs (billing, auto-training); the labeling screen's pre-fill hook. No torch here.
        from marketplace.prefill import PREFILL_HOOKS

        from . import tasks  # noqa: F401
        from .prefill import ocr_prefill

        if ocr_prefill not in PREFILL_HOOKS:
            PREFILL_HOOKS.append(ocr_prefill)
