"""Pay transparency per qualification: what expert work really paid per hour, against the members' rate card."""

from __future__ import annotations

from collections import defaultdict

from ..models import Answer, Project
from ..pay import hourly_rate
from ..transparency import percentile
from .models import Qualification
from .selectors import current_rate_for

SHOWN = ("published", "paused", "completed", "closed")


def pay_by_qualification() -> list[dict]:
    """Per active qualification: projects requiring it, posted hourly pay, measured median and 10th-percentile hourly pay
    (accepted regular answers with active time), and the rate card in force. One pass over the answers."""
    qualifications = list(Qualification.objects.filter(is_active=True).order_by("name"))
    through = Project.required_qualifications.through
    links = defaultdict(set)
    for project_id, qualification_id in through.objects.filter(project__status__in=SHOWN).values_list("project_id", "qualification_id"):
        links[project_id].add(qualification_id)
    projects = Project.objects.in_bulk(list(links))
    rates: dict[int, list] = defaultdict(list)
    answers = Answer.objects.filter(
        task__project__in=list(links), task__is_gold=False, status=Answer.Status.ACCEPTED, active_seconds__gt=0
    ).values_list("task__project_id", "active_seconds")
    for project_id, seconds in answers.iterator(chunk_size=5000):
        rate = hourly_rate(projects[project_id].pay_per_task, seconds)
        for qualification_id in links[project_id]:
            rates[qualification_id].append(rate)
    rows = []
    for q in qualifications:
        mine = [p for pid, p in projects.items() if q.pk in links[pid]]
        measured = sorted(rates.get(q.pk, []))
        card = current_rate_for(q)
        rows.append({
            "qualification": q,
            "projects": len(mine),
            "posted_hourly": max((p.effective_hourly_pay for p in mine), default=None),
            "median_hourly": percentile(measured, 50),
            "p10_hourly": percentile(measured, 10),
            "measured_answers": len(measured),
            "rate_card": card.hourly_minimum if card else None,
        })
    return rows
