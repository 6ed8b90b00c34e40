"""Live project progress for the client console: an event after a submitted answer commits, at most one per
project every PROGRESS_EVENT_INTERVAL seconds from each server process.

The event carries no data (not even the answer): the console re-reads the progress panel through the
access-checked page when it hears one, and once more a second after the last event it heard
(console.js), so answers whose events were coalesced here are on screen within that second. Coalescing
keeps a busy project (a hundred answers a second) from costing a channel-layer round trip per answer.
"""

import threading
import time

from coop.realtime import group_send_on_commit

PROGRESS_EVENT_INTERVAL = 0.5  # seconds; the console's trailing refresh (1 s) must be longer

_clock = time.monotonic  # a name of its own, so a test can move this clock without moving asyncio's
_last_sent: dict[int, float] = {}
_lock = threading.Lock()


def progress_group(project_id: int) -> str:
    return f"marketplace.project.{project_id}"


def _due(project_id: int) -> bool:
    now = _clock()
    with _lock:
        if now - _last_sent.get(project_id, float("-inf")) < PROGRESS_EVENT_INTERVAL:
            return False
        _last_sent[project_id] = now
        if len(_last_sent) > 10_000:  # bounded memory in a long-lived process
            _last_sent.clear()
            _last_sent[project_id] = now
        return True


def progress_publish(*, project_id: int) -> None:
    if _due(project_id):
        group_send_on_commit(progress_group(project_id), "progress.event", {"kind": "progress", "project": project_id})
