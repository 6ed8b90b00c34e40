"""Live project progress for the client console: an event per submitted answer, sent after commit.

The event carries no data (not even the answer): the console re-reads the
progress panel through the access-checked page when it hears one.
"""

from coop.realtime import group_send_on_commit


def progress_group(project_id: int) -> str:
    return f"marketplace.project.{project_id}"


def progress_publish(*, project_id: int) -> None:
    group_send_on_commit(progress_group(project_id), "progress.event", {"kind": "progress", "project": project_id})
