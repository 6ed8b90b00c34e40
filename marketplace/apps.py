from django.apps import AppConfig


class MarketplaceConfig(AppConfig):
    name = "marketplace"
    verbose_name = "Marketplace"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from . import governance_cases, governance_hooks, tasks  # noqa: F401  (actors, periodic jobs, publication/export/appeal rules)
        from .services import wellbeing  # noqa: F401  (sensitive-content opt-in and daily cap at claim time)
        from .apis import ProjectResultsApi

        ProjectResultsApi.EXPORT_HOOKS = [governance_hooks.export_allowed]
