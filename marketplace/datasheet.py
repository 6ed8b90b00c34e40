"""The datasheet of a project's data: whose judgment it holds and on what terms (after "Datasheets for Datasets").

Who the raters were (how many; their countries, languages and qualifications in aggregate), what they were
paid per hour (median, 10th percentile, the share of answers topped up to the floor), how much they agreed
(agreement.py: the type's measure), the data-use agreement the data is under, and the dates. It describes the
raters whose answers were accepted into the data.

Privacy and pay follow marketplace.rater_pool, the rules every description of our data shares: a count under
SMALL_CELL (5) is never shown (it is folded into "fewer_than_5"), and hourly pay is measured pay of the accepted
answers the datasheet describes, each counted once. Gold checks are not part of the data: they are left out of
the counts and of the pay (a pay raise tops them up too; they must not count towards the share topped up).
"""

from __future__ import annotations

from django.db.models import Count, Max, Min, Q
from django.utils import timezone

from coop.models import Membership

from .agreement import project_agreement
from .models import AcceptedLabel, Answer, Project
from .rater_pool import SMALL_CELLS_NOTE, pay_summary, rater_pool, suppressed
from .selectors import EXPORT_CHUNK, project_dua


def _pay(project: Project, accepted) -> dict:
    return {
        "posted_hourly": str(project.effective_hourly_pay),
        "posted_time_basis": "measured" if project.time_measured else "client_estimate",
        **pay_summary(accepted, currency=project.currency),
    }


def project_datasheet(*, project: Project) -> dict:
    """The datasheet of `project`'s accepted data, as JSON-ready values (a handful of aggregate queries)."""
    from .expert.models import QualificationGrant

    accepted = Answer.objects.filter(task__project=project, task__is_gold=False, status=Answer.Status.ACCEPTED)
    rater_ids = accepted.values("worker_id").distinct()
    memberships = Membership.objects.filter(user_id__in=rater_ids).values_list("country", "languages")
    pool = rater_pool(memberships.iterator(chunk_size=EXPORT_CHUNK))
    now = timezone.now()
    qualifications = dict(
        QualificationGrant.objects.filter(member_id__in=rater_ids)
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))
        .values_list("qualification__name")
        .annotate(n=Count("member_id", distinct=True))
        .values_list("qualification__name", "n")
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
        "raters": pool["raters"],
        "rater_countries": pool["countries"],
        "rater_languages": pool["languages"],
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
        "small_cells": SMALL_CELLS_NOTE,
    }
