"""Accuracy that counts, openly: a member below a project's minimum gold accuracy is held off it, told why, and can appeal.

The rule is eligibility.gold_standing (called by claims and the feed). This module records the hold the
moment a gold answer takes a member below the minimum, notifies them with the figures, and lets them
appeal through the co-op's appeals (governance appeal_file, type "accuracy_hold"): if the members uphold
the appeal the hold is lifted and accuracy is counted afresh from then on.
"""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from coop.errors import Conflict, NotFound
from coop.models import User
from marketplace.error_codes import MarketplaceErrorCode

from ..models import Project, WorkerProjectStats
from .eligibility import gold_standing
from .models import GoldAccuracyHold


def accuracy_hold_if_below(*, worker: User, project: Project) -> GoldAccuracyHold | None:
    """Record (once) that the member fell below the project's minimum, and tell them why. Call after a gold answer is graded."""
    if project.min_gold_accuracy is None:
        return None
    standing = gold_standing(project, worker)
    if standing.hold is not None:
        return standing.hold
    if not standing.below:
        return None
    try:
        with transaction.atomic():
            hold = GoldAccuracyHold.objects.create(
                project=project, worker=worker, gold_answered=standing.answered, gold_correct=standing.correct,
                accuracy=standing.accuracy, minimum=project.min_gold_accuracy,
            )
    except IntegrityError:
        return GoldAccuracyHold.objects.filter(project=project, worker=worker, status=GoldAccuracyHold.Status.IN_FORCE).first()
    from coop.services.notifications import notification_send

    notification_send(
        user=worker,
        kind="marketplace.accuracy_hold",
        title=f"No more tasks from “{project.title}”: gold accuracy {standing.accuracy:.1%}",
        body=(
            f"You answered {standing.correct} of {standing.answered} gold (known-answer) tasks correctly; the project needs "
            f"{project.min_gold_accuracy:.0%} after {project.min_gold_answers}. Your work so far is paid. If you think this is wrong, appeal."
        ),
        url=reverse("marketplace:accuracy"),
    )
    return hold


def accuracy_hold_appeal(*, worker: User, project: Project, reason: str):
    """Appeal a hold through the co-op's appeals (the members, or a panel, decide; the worker is off the electorate)."""
    from governance.services import appeal_file

    standing = gold_standing(project, worker)
    hold = standing.hold or accuracy_hold_if_below(worker=worker, project=project)
    if hold is None:
        raise NotFound("You are not held off this project.", code=MarketplaceErrorCode.NO_HOLD)
    return appeal_file(
        member=worker,
        subject=hold,
        reason=reason,
        appeal_type="accuracy_hold",
        payload={"project": project.title, "project_id": project.pk, "gold_answered": hold.gold_answered,
                 "gold_correct": hold.gold_correct, "minimum": str(hold.minimum)},
    )


@transaction.atomic
def accuracy_hold_lift(*, hold: GoldAccuracyHold, reason: str) -> GoldAccuracyHold:
    """Lift a hold (a passed appeal): accuracy is counted afresh from the member's counts now."""
    hold = GoldAccuracyHold.objects.select_for_update().get(pk=hold.pk)
    if hold.status != GoldAccuracyHold.Status.IN_FORCE:
        raise Conflict("This hold was lifted already.", code=MarketplaceErrorCode.HOLD_LIFTED)
    stats = WorkerProjectStats.objects.filter(worker_id=hold.worker_id, project_id=hold.project_id).first()
    hold.status = GoldAccuracyHold.Status.LIFTED
    hold.lifted_at = timezone.now()
    hold.lifted_reason = reason[:300]
    hold.baseline_answered = stats.gold_answered if stats else 0
    hold.baseline_correct = stats.gold_correct if stats else 0
    hold.save(update_fields=["status", "lifted_at", "lifted_reason", "baseline_answered", "baseline_correct"])
    return hold
