"""Live task feed: project changes are pushed to every member's open feed page after commit."""

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

FEED_GROUP = "marketplace.feed"


def feed_publish(*, project, event: str) -> None:
    payload = {"kind": "feed", "event": event, "project": project.pk, "status": project.status, "title": project.title}

    def send():
        layer = get_channel_layer()
        if layer is not None:
            async_to_sync(layer.group_send)(FEED_GROUP, {"type": "feed.event", "event": payload})

    transaction.on_commit(send)
