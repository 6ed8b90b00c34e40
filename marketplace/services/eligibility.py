"""Which published projects a member may work on, and why not.

Checks are pluggable: fair-pay rules (sensitive-content opt-in, daily caps)
register a function `check(project, worker) -> str | None` returning a
reason code to refuse.
"""

from __future__ import annotations

from coop.models import User

from ..models import Project

CLAIM_CHECKS: list = []


def claim_check(func):
    CLAIM_CHECKS.append(func)
    return func


def project_refusal(project: Project, worker: User) -> str | None:
    for check in CLAIM_CHECKS:
        reason = check(project, worker)
        if reason:
            return reason
    return None


def published_projects_by_pay() -> list[Project]:
    """All published projects, best effective hourly pay first (ties: oldest first)."""
    projects = list(Project.objects.filter(status=Project.Status.PUBLISHED).select_related("organization"))
    projects.sort(key=lambda p: (-p.effective_hourly_pay, p.pk))
    return projects


def projects_open_to(worker: User) -> list[Project]:
    """Published projects this member may work on, best effective hourly pay first."""
    return [p for p in published_projects_by_pay() if project_refusal(p, worker) is None]
