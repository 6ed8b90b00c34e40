"""WebSocket routes of the marketplace."""

from django.urls import path

from .consumers import FeedConsumer, ProjectProgressConsumer

websocket_urlpatterns = [
    path("ws/marketplace/feed/", FeedConsumer.as_asgi()),
    path("ws/client/projects/<int:pk>/progress/", ProjectProgressConsumer.as_asgi()),
]
