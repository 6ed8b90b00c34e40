"""The datasheet of a project's data: whose judgment it holds and on what terms (after "Datasheets for Datasets").

Who the raters were (how many; their countries, languages and qualifications in aggregate), what they were
paid per hour (median, 10th percentile, the share of answers topped up to the floor), how much they agreed
(agreement.py: the type's measure), the data-use agreement the data is under, and the dates. It describes the raters whose answers were accepted into the data.

Privacy: a count under SMALL_CELL (5) is never shown; it is folded into "fewer_than_5" (how many raters sit in
such cells), so no single rater's country or language can be read off a small project. Memory stays bounded:
the pay pass keeps one integer per answer (cents per hour) and reads the ledger a chunk at a time.
"""

from __future__ import annotations

from array import array
from collections import Counter
from decimal import Decimal

from django.db.models import Count, Max, Min, Q
from django.utils import timezone

from coop.exports import chunked
from coop.models import Membership

from .agreement import project_agreement
from .ledger.models import LedgerTransaction, TransactionKind
from .ledger.selectors import paid_by_answer
from .models import AcceptedLabel, Answer, Project
from .selectors import EXPORT_CHUNK, project_dua
from .transparency import percentile

SMALL_CELL = 5


def suppressed(counts: Counter) -> dict:
    """{"counts": {key: n ≥ 5}, "fewer_than_5": raters in smaller cells, "cells_suppressed": how many cells}."""
    shown = {key: n for key, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])) if n >= SMALL_CELL}
    hidden = [n for n in counts.values() if n < SMALL_CELL]
    return {"counts": shown, "fewer_than_5": sum(hidden), "cells_suppressed": len(hidden)}


def _pay(project: Project, accepted) -> dict:
    cents = array("q")
    ids = accepted.filter(active_seconds__gt=0).order_by("pk").values_list("pk", "active_seconds")
    for chunk in chunked(ids.iterator(chunk_size=EXPORT_CHUNK), EXPORT_CHUNK):
        paid = paid_by_answer([pk for pk, _ in chunk])
        for pk, seconds in chunk:
            if pk in paid:
                cents.append(int(paid[pk] * 360000 / seconds))  # amount / seconds × 3600, in cents
    ordered = sorted(cents)
    topped_up = (
        LedgerTransaction.objects.filter(project=project, kind=TransactionKind.TOP_UP, answer__isnull=False)
        .values("answer_id")
        .distinct()
        .count()
    )
    total = accepted.count()

    def money(value):
        return None if value is None else str(Decimal(value) / 100)

    return {
        "currency": project.currency,
        "posted_hourly": str(project.effective_hourly_pay),
        "posted_time_basis": "measured" if project.time_measured else "client_estimate",
        "median_hourly": money(percentile(ordered, 50)),
        "p10_hourly": money(percentile(ordered, 10)),
        "answers_measured": len(ordered),
        "share_topped_up": str(round(Decimal(topped_up) / total, 3)) if total else None,
    }


def project_datasheet(*, project: Project) -> dict:
    """The datasheet of `project`'s accepted data, as JSON-ready values (a handful of aggregate queries)."""
    from .expert.models import QualificationGrant

    accepted = Answer.objects.filter(task__project=project, task__is_gold=False, status=Answer.Status.ACCEPTED)
    rater_ids = accepted.values("worker_id").distinct()
    memberships = Membership.objects.filter(user_id__in=rater_ids).values_list("country", "languages")
    countries, languages, raters = Counter(), Counter(), 0
    for country, spoken in memberships.iterator(chunk_size=EXPORT_CHUNK):
        raters += 1
        countries[country or "unknown"] += 1
        for language in set(spoken or []):
            languages[str(language)] += 1
    now = timezone.now()
    qualifications = Counter(
        dict(
            QualificationGrant.objects.filter(member_id__in=rater_ids)
            .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))
            .values_list("qualification__name")
            .annotate(n=Count("member_id", distinct=True))
            .values_list("qualification__name", "n")
        )
    )
    dates = accepted.aggregate(first_answer=Min("submitted_at"), last_answer=Max("submitted_at"))
    labels = AcceptedLabel.objects.filter(project=project).aggregate(
        labels=Count("id"), first_label=Min("accepted_at"), last_label=Max("accepted_at")
    )
    dua = project_dua(project)
    return {
        "project": {"id": project.pk, "title": project.title, "task_type": project.task_type, "client": project.organization.name},
        "generated_at": now.isoformat(),
        "labels": labels["labels"],
        "accepted_answers": accepted.count(),
        "raters": raters,
        "rater_countries": suppressed(countries),
        "rater_languages": suppressed(languages),
        "rater_qualifications": suppressed(qualifications),
        "pay": _pay(project, accepted),
        "agreement": project_agreement(project=project),
        "data_use_agreement": None
        if dua is None
        else {
            "id": dua.pk,
            "version": dua.version,
            "status": dua.status,
            "permitted_purposes": dua.permitted_purposes,
            "train_models": dua.train_models,
            "retention_days": dua.retention_days,
        },
        "dates": {
            "published_at": project.published_at.isoformat() if project.published_at else None,
            **{key: value.isoformat() if value else None for key, value in dates.items()},
            "first_label": labels["first_label"].isoformat() if labels["first_label"] else None,
            "last_label": labels["last_label"].isoformat() if labels["last_label"] else None,
        },
        "small_cells": f"Counts under {SMALL_CELL} are not shown, to protect the raters' privacy.",
    }
