"""All WebSocket routes of the project; each app contributes its own routing module."""

from coop.routing import websocket_urlpatterns as coop_routes

websocket_urlpatterns = [*coop_routes]
