from django.apps import AppConfig


class MlopsConfig(AppConfig):
    name = "mlops"
    verbose_name = "MLOps"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # Actors and periodic jobs (billing, auto-training); the labeling screen's pre-fill hook. No torch here.
        from marketplace.prefill import PREFILL_HOOKS, SERVED_LOOKUPS

        from . import rights, tasks  # noqa: F401  (rights: receivers of governance's rights signal)
        from .prefill import ocr_prefill, ocr_prefill_served

        if ocr_prefill not in PREFILL_HOOKS:
            PREFILL_HOOKS.append(ocr_prefill)
        if ocr_prefill_served not in SERVED_LOOKUPS:
            SERVED_LOOKUPS.append(ocr_prefill_served)
