"""Live events: one way to send to a channel-layer group, after the current transaction commits.

Consumers only forward what services published; a rolled-back write never reaches a socket.
"""

import logging

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

logger = logging.getLogger(__name__)


def group_send(group: str, message_type: str, event: dict) -> None:
    """Send `{"type": message_type, "event": event}` to `group` now (for code outside a transaction, e.g. a worker).

    A live event is best effort: a channel-layer hiccup is logged, never raised into the write that published it.
    """
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        async_to_sync(layer.group_send)(group, {"type": message_type, "event": event})
    except Exception:
        logger.warning("Could not send %s to %s", message_type, group, exc_info=True)


def group_send_on_commit(group: str, message_type: str, event: dict) -> None:
    """Send `{"type": message_type, "event": event}` to `group` once the current transaction commits (at once outside one)."""
    transaction.on_commit(lambda: group_send(group, message_type, event))
