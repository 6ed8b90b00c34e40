"""The project's wiring: settings, URLs, ASGI/WSGI, WebSocket routes and the demo data command.

Layers (enforced by import-linter, see pyproject.toml): coop < governance < marketplace < mlops, each app
importing only the ones below it; config/ sits above them all.
"""
