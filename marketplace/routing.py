"""WebSocket routes of the marketplace."""

from django.urls import path

from .consumers import FeedConsumer

websocket_urlpatterns = [path("ws/marketplace/feed/", FeedConsumer.as_asgi())]
