"""Which published projects a member may work on, and why not.

The rules are called, not registered: a project pays at least the pay floor
now in force (a project below a newly raised floor leaves the feed and takes
no claims until it pays it), and sensitive content needs the member's opt-in
and is capped per day (services/wellbeing.py); expert projects need the
qualifications and languages they name, the members' rate card for them, and
gold accuracy at the project's minimum (marketplace/expert/eligibility.py).
"""

from __future__ import annotations

from decimal import Decimal

from coop.models import User

from ..expert.eligibility import expert_refusal
from ..models import Project
from ..pay import current_pay_floor
from .wellbeing import wellbeing_refusal


def project_refusal(project: Project, worker: User, *, floor: Decimal | None = None, memo: dict | None = None) -> str | None:
    floor = current_pay_floor() if floor is None else floor
    if project.effective_hourly_pay < floor:
        return "below_pay_floor"
    # Expert work: the rate card, required qualifications and languages, gold accuracy (marketplace/expert/eligibility.py).
    return expert_refusal(project, worker) or wellbeing_refusal(project, worker, memo=memo)


def published_projects_by_pay(*, floor: Decimal | None = None) -> list[Project]:
    """Published projects paying at least today's floor, best effective hourly pay first (ties: oldest first).

    The feed's promise, "every project here pays at least the floor", holds the
    moment the members raise it, whether or not the pause job has run yet.
    """
    floor = current_pay_floor() if floor is None else floor
    projects = [
        p
        for p in Project.objects.filter(status=Project.Status.PUBLISHED)
        .select_related("organization")
        .prefetch_related("required_qualifications")
        if p.effective_hourly_pay >= floor
    ]
    projects.sort(key=lambda p: (-p.effective_hourly_pay, p.pk))
    return projects


def projects_open_to(worker: User) -> list[Project]:
    """Published projects this member may work on, best effective hourly pay first."""
    floor, memo = current_pay_floor(), {}  # the member's wellbeing figures are read once, not per project
    return [p for p in published_projects_by_pay(floor=floor) if project_refusal(p, worker, floor=floor, memo=memo) is None]
