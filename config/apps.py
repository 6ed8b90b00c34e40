from django.apps import AppConfig


class ConfigConfig(AppConfig):
    """The project's wiring (settings, URLs, ASGI/WSGI, WebSocket routes, the demo): the one place that may
    import every app. It holds no models; it is installed so that its management commands (seed_demo) load."""

    name = "config"
    verbose_name = "Project wiring"
