from django.apps import AppConfig


class MarketplaceConfig(AppConfig):
    name = "marketplace"
    verbose_name = "Marketplace"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from . import governance_hooks, tasks  # noqa: F401  (actors, periodic jobs, publication/export/appeal rules)
        from .apis import ProjectResultsApi

        ProjectResultsApi.EXPORT_HOOKS = [governance_hooks.export_allowed]
