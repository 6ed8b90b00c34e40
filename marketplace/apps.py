from django.apps import AppConfig


class MarketplaceConfig(AppConfig):
    name = "marketplace"
    verbose_name = "Marketplace"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # Registrations that invert a real upward arrow only: governance calls the effects of votes by key
        # (governance_hooks), shows marketplace appeal cases (governance_cases); dramatiq finds the actors.
        # No rule depends on this running: the services call them directly.
        from . import governance_cases, governance_hooks, tasks  # noqa: F401
        from .benefits import governance_effects  # noqa: F401  (votes decide benefit claims; the queue job)
        from .benefits import tasks as benefits_tasks  # noqa: F401
        from .expert import governance as expert_governance  # noqa: F401  (votes granting qualifications, rate cards, accuracy appeals)
