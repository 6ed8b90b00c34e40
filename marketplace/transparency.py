"""Pay transparency: what work really paid per hour, per project and per client, from measured active time.

For every accepted answer with measured active time, the effective hourly
pay is pay per task / active seconds × 3600 (exact Decimal, rounded to the
cent). Percentiles are nearest-rank over those values: the p-th percentile
of n sorted values is the value at rank ceil(p/100 × n). Rates are shares of
decided answers (accepted + rejected); time to review is the median of
decided_at − submitted_at.
"""

from __future__ import annotations

import math
from collections import defaultdict
from decimal import Decimal

from django.db.models import Q

from .models import Answer, Project
from .pay import hourly_rate


def percentile(sorted_values: list, p: int):
    """Nearest-rank percentile of already sorted values; None when there are none."""
    if not sorted_values:
        return None
    rank = max(1, math.ceil(p / 100 * len(sorted_values)))
    return sorted_values[rank - 1]


def _summary(rates: list[Decimal], accepted: int, rejected: int, review_seconds: list[float], posted: Decimal | None) -> dict:
    rates.sort()
    review_seconds.sort()
    decided = accepted + rejected
    return {
        "posted_hourly": posted,
        "median_hourly": percentile(rates, 50),
        "p10_hourly": percentile(rates, 10),
        "measured_answers": len(rates),
        "accepted": accepted,
        "rejected": rejected,
        "acceptance_rate": round(100 * accepted / decided, 1) if decided else None,
        "rejection_rate": round(100 * rejected / decided, 1) if decided else None,
        "median_review_hours": round(percentile(review_seconds, 50) / 3600, 1) if review_seconds else None,
    }


def pay_statistics() -> dict:
    """{"projects": [...], "clients": [...]} over published, paused and completed projects: one pass over answers."""
    projects = {
        p.pk: p
        for p in Project.objects.filter(status__in=["published", "paused", "completed"]).select_related("organization")
    }
    per_project: dict[int, dict] = defaultdict(lambda: {"rates": [], "accepted": 0, "rejected": 0, "review": []})
    answers = (
        Answer.objects.filter(task__project__in=list(projects), task__is_gold=False)
        .filter(Q(status=Answer.Status.ACCEPTED) | Q(status=Answer.Status.REJECTED))
        .values_list("task__project_id", "status", "active_seconds", "submitted_at", "decided_at")
    )
    for project_id, status, seconds, submitted_at, decided_at in answers.iterator(chunk_size=5000):
        bucket = per_project[project_id]
        if status == Answer.Status.ACCEPTED:
            bucket["accepted"] += 1
            if seconds:
                bucket["rates"].append(hourly_rate(projects[project_id].pay_per_task, seconds))
        else:
            bucket["rejected"] += 1
        if decided_at:
            bucket["review"].append((decided_at - submitted_at).total_seconds())

    project_rows, per_client = [], defaultdict(lambda: {"rates": [], "accepted": 0, "rejected": 0, "review": [], "projects": 0})
    for project_id, project in projects.items():
        bucket = per_project.get(project_id, {"rates": [], "accepted": 0, "rejected": 0, "review": []})
        client = per_client[project.organization]
        client["projects"] += 1
        for key in ("rates", "review"):
            client[key].extend(bucket[key])
        client["accepted"] += bucket["accepted"]
        client["rejected"] += bucket["rejected"]
        project_rows.append(
            {"project": project, **_summary(list(bucket["rates"]), bucket["accepted"], bucket["rejected"], list(bucket["review"]), project.effective_hourly_pay)}
        )
    client_rows = [
        {"client": organization, "projects": data["projects"], **_summary(data["rates"], data["accepted"], data["rejected"], data["review"], None)}
        for organization, data in per_client.items()
    ]
    project_rows.sort(key=lambda row: (row["median_hourly"] is None, -(row["median_hourly"] or 0)))
    client_rows.sort(key=lambda row: row["client"].name)
    return {"projects": project_rows, "clients": client_rows}


def bar_chart(rows: list[dict], *, floor: Decimal, width: int = 640, bar: int = 22) -> dict:
    """Geometry for a server-rendered SVG of measured median hourly pay per project, with the pay floor marked."""
    measured = [r for r in rows if r["median_hourly"] is not None]
    top = max([floor, *[r["median_hourly"] for r in measured], *[r["p10_hourly"] for r in measured]] or [Decimal(1)])
    label_width, plot = 220, width - 220 - 60
    scale = plot / float(top * Decimal("1.1"))
    bars = []
    for index, row in enumerate(measured):
        bars.append(
            {
                "y": 10 + index * (bar + 8),
                "label": row["project"].title[:32],
                "width": round(float(row["median_hourly"]) * scale, 1),
                "p10_x": round(label_width + float(row["p10_hourly"]) * scale, 1),
                "value": row["median_hourly"],
                "below_floor": row["median_hourly"] < floor,
            }
        )
    return {
        "width": width,
        "height": 20 + len(bars) * (bar + 8),
        "bar": bar,
        "label_width": label_width,
        "floor_x": round(label_width + float(floor) * scale, 1),
        "floor": floor,
        "bars": bars,
    }
