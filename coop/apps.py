from django.apps import AppConfig


class CoopConfig(AppConfig):
    name = "coop"
    verbose_name = "Co-op"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # Register dramatiq actors of the co-op domain with the broker, and the start-up checks.
        from . import checks, tasks, token_cache  # noqa: F401

        token_cache.connect()  # a cached API token is forgotten when it, its user, membership or organization changes
