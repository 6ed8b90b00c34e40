"""How much raters agree, by task type: the figures clients read to trust a dataset, and members read about their own work.

Per project:
- OCR, classification, pairwise: Krippendorff's alpha, nominal, over the tasks' answer values.
- multi-label: alpha, nominal, for each label (chosen or not), and their mean.
- rubric: alpha, ordinal, for each dimension (points of its scale), and their mean.
- ranking: Kendall's W (coefficient of concordance, corrected for ties) per task, averaged over the tasks
  with two rankings or more.
- rewrite: none (rewrites are judged in review, not matched).
Alpha is computed with the `krippendorff` package from per-task value counts (tasks × values), so memory
grows with the tasks, not with tasks × raters. Rejected answers and gold tasks are left out.

Per worker: the share of their answers that agree with the accepted label (the type's own agreement
rule: within tolerance for rubrics), and for rankings the mean Kendall tau-b of their ranking with the label's.
"""

from __future__ import annotations

import json
from collections import defaultdict
from itertools import combinations

from .models import AcceptedLabel, Answer, Project, TaskType

NOMINAL = (TaskType.OCR, TaskType.CLASSIFICATION, TaskType.PAIRWISE)


def _alpha(units: dict[int, list], domain: list, level: str) -> float | None:
    """Krippendorff's alpha from each unit's values; None when fewer than two units have two values or more."""
    import krippendorff
    import numpy as np

    pairable = [values for values in units.values() if len(values) >= 2]
    if len(pairable) < 2 or len(domain) < 2:
        return None
    index = {value: i for i, value in enumerate(domain)}
    counts = np.zeros((len(pairable), len(domain)))
    for row, values in enumerate(pairable):
        for value in values:
            counts[row, index[value]] += 1
    try:
        value = krippendorff.alpha(value_counts=counts, value_domain=list(range(len(domain))), level_of_measurement=level)
    except ValueError:  # one value everywhere: no variation to agree on
        return None
    return None if value != value else round(float(value), 3)  # NaN: no disagreement possible


def _mean(values: list[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return round(sum(present) / len(present), 3) if present else None


def _ranks(groups: list[list[int]], n: int) -> list[float]:
    """Average ranks (1 = best) of n items from ordered tie groups."""
    ranks, place = [0.0] * n, 1
    for group in groups:
        average = place + (len(group) - 1) / 2
        for item in group:
            ranks[item] = average
        place += len(group)
    return ranks


def _groups(value: str) -> list[list[int]]:
    return [[int(i) for i in group.split("=")] for group in value.split(">")]


def kendall_w(rankings: list[list[list[int]]]) -> float | None:
    """Kendall's W of m rankings (tie groups) of the same n items, with the tie correction; None if undefined."""
    m, n = len(rankings), sum(len(g) for g in rankings[0]) if rankings else 0
    if m < 2 or n < 2:
        return None
    ranks = [_ranks(r, n) for r in rankings]
    totals = [sum(r[i] for r in ranks) for i in range(n)]
    mean = m * (n + 1) / 2
    s = sum((t - mean) ** 2 for t in totals)
    ties = sum(len(g) ** 3 - len(g) for r in rankings for g in r)
    denominator = m * m * (n**3 - n) - m * ties
    return round(12 * s / denominator, 3) if denominator > 0 else None


def kendall_tau_b(a: list[list[int]], b: list[list[int]]) -> float | None:
    """Kendall's tau-b between two rankings (tie groups) of the same items."""
    n = sum(len(g) for g in a)
    ra, rb = _ranks(a, n), _ranks(b, n)
    concordant = discordant = ties_a = ties_b = 0
    for i, j in combinations(range(n), 2):
        da, db = ra[i] - ra[j], rb[i] - rb[j]
        if da == 0 and db == 0:
            continue
        if da == 0:
            ties_a += 1
        elif db == 0:
            ties_b += 1
        elif (da > 0) == (db > 0):
            concordant += 1
        else:
            discordant += 1
    denominator = ((concordant + discordant + ties_a) * (concordant + discordant + ties_b)) ** 0.5
    return round((concordant - discordant) / denominator, 3) if denominator else None


def _answers(project: Project):
    return (
        Answer.objects.filter(task__project=project, task__is_gold=False)
        .exclude(status=Answer.Status.REJECTED)
        .order_by("task_id", "pk")
        .values_list("task_id", "value")
    )


def project_agreement(*, project: Project) -> dict:
    """The project's agreement figures by its type's measure (see the module docstring)."""
    kind = project.task_type
    by_task: dict[int, list[str]] = defaultdict(list)
    for task_id, value in _answers(project).iterator(chunk_size=5000):
        by_task[task_id].append(value)
    result = {"task_type": kind, "tasks_with_several_answers": sum(1 for v in by_task.values() if len(v) >= 2)}
    if kind in NOMINAL:
        domain = sorted({v for values in by_task.values() for v in values})
        return {**result, "measure": "krippendorff_alpha", "level": "nominal", "value": _alpha(by_task, domain, "nominal")}
    if kind == TaskType.MULTILABEL:
        labels = {
            label: _alpha({t: [label in v.split("|") for v in values] for t, values in by_task.items()}, [False, True], "nominal")
            for label in project.choices
        }
        return {**result, "measure": "krippendorff_alpha", "level": "nominal", "per_label": labels, "value": _mean(list(labels.values()))}
    if kind == TaskType.RUBRIC:
        dimensions = {}
        for dim in (project.task_config or {}).get("dimensions", []):
            points = {t: [json.loads(v)[dim["key"]] for v in values] for t, values in by_task.items()}
            dimensions[dim["key"]] = _alpha(points, list(range(len(dim["scale"]))), "ordinal")
        return {**result, "measure": "krippendorff_alpha", "level": "ordinal", "per_dimension": dimensions, "value": _mean(list(dimensions.values()))}
    if kind == TaskType.RANKING:
        per_task = [kendall_w([_groups(v) for v in values]) for values in by_task.values() if len(values) >= 2]
        return {**result, "measure": "kendall_w", "value": _mean(per_task)}
    return {**result, "measure": None, "value": None, "note": "Rewrites are judged in review, not matched."}


def worker_agreement(*, project: Project, worker_ids=None) -> dict[int, dict]:
    """Per worker: answers counted, the share agreeing with the accepted label, and (rankings) mean tau-b with it."""
    answers = Answer.objects.filter(task__project=project, task__is_gold=False, agrees_with_label__isnull=False)
    if worker_ids is not None:
        answers = answers.filter(worker_id__in=list(worker_ids))
    stats: dict[int, dict] = defaultdict(lambda: {"answers": 0, "agreeing": 0, "taus": []})
    labels = {}
    if project.task_type == TaskType.RANKING:
        labels = dict(AcceptedLabel.objects.filter(project=project).values_list("task_id", "value"))
    for worker_id, task_id, value, agrees in answers.values_list("worker_id", "task_id", "value", "agrees_with_label").iterator(chunk_size=5000):
        row = stats[worker_id]
        row["answers"] += 1
        row["agreeing"] += 1 if agrees else 0
        if task_id in labels:
            row["taus"].append(kendall_tau_b(_groups(value), _groups(labels[task_id])))
    return {
        worker_id: {
            "answers": row["answers"],
            "agreement_with_label": round(row["agreeing"] / row["answers"], 3),
            **({"mean_kendall_tau_with_label": _mean(row["taus"])} if project.task_type == TaskType.RANKING else {}),
        }
        for worker_id, row in stats.items()
    }


def member_agreement(*, worker) -> list[dict]:
    """A member's own agreement figures, per project they have answers with a label in (newest first)."""
    project_ids = (
        Answer.objects.filter(worker=worker, agrees_with_label__isnull=False, task__is_gold=False)
        .values_list("task__project_id", flat=True)
        .distinct()
    )
    rows = []
    for project in Project.objects.filter(pk__in=project_ids).order_by("-created_at"):
        figures = worker_agreement(project=project, worker_ids=[worker.pk]).get(worker.pk)
        if figures:
            rows.append({"project_id": project.pk, "title": project.title, "task_type": project.task_type, **figures})
    return rows
