"""WebSocket routes of the governance app."""

websocket_urlpatterns: list = []
