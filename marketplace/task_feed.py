"""The task feed a member sees: published projects with pay, work left, the client's rating and why not.

A read above the services: it applies the claim rules (services.eligibility, expert.eligibility) to say why a
project is refused, so it cannot live in selectors.py, which the services themselves read.
"""

from __future__ import annotations

from django.db.models import Count

from coop.models import User

from .expert.eligibility import refusal_detail
from .models import Assignment, Task
from .selectors import client_ratings
from .services.eligibility import project_refusal, published_projects_by_pay


def feed_projects(*, worker: User) -> list[dict]:
    """The task feed: published projects with pay, effective hourly pay, time, warnings, work left, and why not (if refused)."""
    projects = published_projects_by_pay()
    remaining = dict(
        Task.objects.filter(project__in=projects, state=Task.State.OPEN, is_gold=False)
        .values_list("project")
        .annotate(n=Count("id"))
        .values_list("project", "n")
    )
    done = set(Assignment.objects.filter(worker=worker, project__in=projects).values_list("project_id", flat=True).distinct())
    ratings = client_ratings(organization_ids={p.organization_id for p in projects})
    rows = [
        {
            "project": p,
            "open_tasks": remaining.get(p.pk, 0),
            "worked_before": p.pk in done,
            "rating": ratings.get(p.organization_id),
            "refusal": project_refusal(p, worker),
        }
        for p in projects
    ]
    for row in rows:  # expert work: which qualification (and its test), language or accuracy figures stand in the way
        row["expert"] = refusal_detail(row["project"], worker, row["refusal"])
    return rows
