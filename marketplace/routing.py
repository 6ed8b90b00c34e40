"""WebSocket routes of the marketplace app."""

websocket_urlpatterns: list = []
