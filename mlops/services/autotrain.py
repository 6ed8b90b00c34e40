"""Automatic training: start a run for a client's OCR projects once they gather enough new accepted labels.

Off unless settings.MLOPS_AUTO_TRAIN_NEW_LABELS > 0. Per client organization,
the model is named "<organization slug>-ocr"; labels count as new when their id
is above the largest one any earlier snapshot considered for that project.
Nothing starts while a run of that model is queued or running, or when no
project's agreement grants training. The run is not promoted automatically: a
steward looks at its metrics first.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.db.models import Max

from coop.errors import ApplicationError
from marketplace.models import AcceptedLabel, Project, TaskType

from ..models import SnapshotSource, TrainingRun
from .training import training_run_start

logger = logging.getLogger(__name__)


def auto_model_name(organization) -> str:
    return f"{organization.slug}-ocr"[:100].lower()


def new_label_count(project: Project) -> int:
    seen = SnapshotSource.objects.filter(project=project).aggregate(m=Max("max_label_id"))["m"] or 0
    return AcceptedLabel.objects.filter(project=project, pk__gt=seen).count()


def auto_train_due() -> list[TrainingRun]:
    """Start the runs that are due (see the module docstring); returns them. Idempotent while a run is pending."""
    threshold = settings.MLOPS_AUTO_TRAIN_NEW_LABELS
    if threshold <= 0:
        return []
    started = []
    projects = (
        Project.objects.filter(task_type=TaskType.OCR, dua__train_models=True, dua__status="active")
        .select_related("organization")
        .order_by("organization_id", "pk")
    )
    by_org: dict[int, list[Project]] = {}
    for project in projects:
        by_org.setdefault(project.organization_id, []).append(project)
    for group in by_org.values():
        organization = group[0].organization
        name = auto_model_name(organization)
        if TrainingRun.objects.filter(model_name=name, status__in=[TrainingRun.Status.QUEUED, TrainingRun.Status.RUNNING]).exists():
            continue
        if sum(new_label_count(p) for p in group) < threshold:
            continue
        try:
            run = training_run_start(actor=None, model_name=name, projects=group, config=settings.MLOPS_AUTO_TRAIN_CONFIG)
        except ApplicationError as error:
            logger.info("Auto-training of %s skipped: %s", name, error.message)
            continue
        started.append(run)
    return started
