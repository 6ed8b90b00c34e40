"""Pausing a live project, and the two helpers every lifecycle move shares: lock the project row, announce the move.

Its own module so that payment (which pauses a project its escrow cannot pay) and projects (which holds the rest of
the lifecycle) both import it without importing each other.
"""

from __future__ import annotations

from django.db import transaction

from ..models import Project
from . import lifecycle
from .feed import feed_publish

S = Project.Status
P = Project.PauseKind


def _locked(project: Project) -> Project:
    """The project row locked for this transaction (not its organization's row), re-read from the database."""
    return Project.objects.select_for_update(of=("self",)).select_related("organization").get(pk=project.pk)


def _announce(project: Project, event: str) -> None:
    feed_publish(project=project, event=event)


_PAUSER = {P.CLIENT: lifecycle.CLIENT, P.FUNDS: lifecycle.SYSTEM, P.FLOOR: lifecycle.SYSTEM, P.MEMBERS: lifecycle.MEMBERS, P.STEWARD: lifecycle.STEWARD}
_BINDING = (P.MEMBERS, P.STEWARD)  # pauses only a steward's decision or a vote lift


@transaction.atomic
def project_pause(*, project: Project, reason: str = "paused by the client", by: str = P.CLIENT) -> Project:
    """Pause a live project: no new leases. `by` (a Project.PauseKind) says who paused, which decides who may resume.

    A pause by the members or a steward also takes over a project the client (or
    its escrow) had paused already, so the client cannot pre-empt it with a pause of its own.
    """
    project = _locked(project)
    if project.status == S.PAUSED and by in _BINDING and project.pause_kind not in _BINDING:
        pass  # the binding pause takes over
    else:
        lifecycle.transition_check(project, S.PAUSED, actor=_PAUSER[by])
    project.status = S.PAUSED
    project.pause_kind = by
    project.status_reason = reason[:200]
    project.save(update_fields=["status", "status_reason", "pause_kind", "updated_at"])
    _announce(project, "paused")
    return project
