"""WebSocket routes of the governance app."""

from django.urls import path

from .consumers import ProposalConsumer

websocket_urlpatterns = [
    path("ws/governance/proposals/<int:proposal_id>/", ProposalConsumer.as_asgi()),
]
