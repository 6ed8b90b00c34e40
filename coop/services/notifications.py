"""Notifications: stored per user and pushed to the user's WebSocket group after commit."""

from __future__ import annotations

from django.utils import timezone

from coop.models import Notification, User
from coop.realtime import group_send_on_commit


def user_group(user_id: int) -> str:
    """The channel-layer group every open notifications socket of a user joins."""
    return f"user.{user_id}"


def publish_to_user(*, user_id: int, event: dict) -> None:
    """Send an event to the user's sockets once the current transaction commits.

    `event` must carry a "kind"; consumers forward it as JSON. Later features
    (task feed, ballots, training progress) publish through here.
    """
    group_send_on_commit(user_group(user_id), "notify", event)


def notification_send(*, user: User, kind: str, title: str, body: str = "", url: str = "") -> Notification:
    notification = Notification.objects.create(user=user, kind=kind, title=title[:200], body=body, url=url)
    publish_to_user(
        user_id=user.pk,
        event={
            "kind": "notification",
            "id": notification.pk,
            "notification_kind": kind,
            "title": notification.title,
            "body": body,
            "url": url,
            "created_at": notification.created_at.isoformat(),
        },
    )
    return notification


def notification_send_to_organization(*, organization, kind: str, title: str, body: str = "", url: str = "") -> None:
    """Notify every active user of a client organization (in a stable order)."""
    for user in organization.users.filter(is_active=True).order_by("pk"):
        notification_send(user=user, kind=kind, title=title, body=body, url=url)


def notification_mark_read(*, user: User, notification_ids: list[int] | None = None) -> int:
    """Mark some (or, with None, all) of a user's notifications read; returns how many changed."""
    queryset = Notification.objects.filter(user=user, read_at__isnull=True)
    if notification_ids is not None:
        queryset = queryset.filter(pk__in=notification_ids)
    return queryset.update(read_at=timezone.now())
