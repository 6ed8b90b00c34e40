"""Live task feed: project changes are pushed to every member's open feed page after commit."""

from coop.realtime import group_send_on_commit

FEED_GROUP = "marketplace.feed"


def feed_publish(*, project, event: str) -> None:
    payload = {"kind": "feed", "event": event, "project": project.pk, "status": project.status, "title": project.title}
    group_send_on_commit(FEED_GROUP, "feed.event", payload)
