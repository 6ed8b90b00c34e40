"""All WebSocket routes of the project; each app contributes its own routing module."""

from coop.routing import websocket_urlpatterns as coop_routes
from governance.routing import websocket_urlpatterns as governance_routes
from marketplace.routing import websocket_urlpatterns as marketplace_routes
from mlops.routing import websocket_urlpatterns as mlops_routes

websocket_urlpatterns = [*coop_routes, *marketplace_routes, *governance_routes, *mlops_routes]
