from django.apps import AppConfig


class GovernanceConfig(AppConfig):
    name = "governance"
    verbose_name = "Governance"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # Register the dramatiq actors (and their schedules) and the built-in effects of decided proposals.
        from . import builtin_effects, tasks  # noqa: F401

        builtin_effects.register()
