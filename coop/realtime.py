"""Live events: one way to send to a channel-layer group, after the current transaction commits.

Consumers only forward what services published; a rolled-back write never reaches a socket.
"""

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction


def group_send_on_commit(group: str, message_type: str, event: dict) -> None:
    """Send `{"type": message_type, "event": event}` to `group` once the current transaction commits (at once outside one)."""

    def send():
        layer = get_channel_layer()
        if layer is not None:
            async_to_sync(layer.group_send)(group, {"type": message_type, "event": event})

    transaction.on_commit(send)
