"""Live project progress for the client console: an event per submitted answer, sent after commit.

The event carries no data (not even the answer): the console re-reads the
progress panel through the access-checked page when it hears one.
"""

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction


def progress_group(project_id: int) -> str:
    return f"marketplace.project.{project_id}"


def progress_publish(*, project_id: int) -> None:
    def send():
        layer = get_channel_layer()
        if layer is not None:
            event = {"kind": "progress", "project": project_id}
            async_to_sync(layer.group_send)(progress_group(project_id), {"type": "progress.event", "event": event})

    transaction.on_commit(send)
