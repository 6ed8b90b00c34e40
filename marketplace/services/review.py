"""Review: stewards decide tasks consensus could not, accept or reject individual answers; appeals; auto-accept.

A rejection needs a reason from a fixed list and written feedback to the
worker, who sees both and can appeal within the appeal window. Appeals are
decided by the members: filing one opens a governance appeal (a panel or vote
in which the reviewers who rejected the answer take no part), and its result
comes back through answer_appeal_decide (see marketplace/governance_hooks.py).
A steward never decides an appeal alone.
"""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from coop.errors import ApplicationError, Conflict, Forbidden
from coop.models import User
from coop.services.notifications import notification_send
from governance.error_codes import GovernanceErrorCode
from governance.services import appeal_file
from marketplace.error_codes import MarketplaceErrorCode

from ..models import AcceptedLabel, Answer, Project, ReviewDecision, Task
from ..pay import current_appeal_window_days
from ..task_types import share
from .consensus import answers_counted, label_accept
from .payment import answers_pay


def appeal_window_closes(answer: Answer):
    """When the worker's right to appeal this rejection ends (None if it was never decided)."""
    if answer.decided_at is None:
        return None
    return answer.decided_at + timedelta(days=current_appeal_window_days())


def _require_reviewer(reviewer: User | None) -> None:
    if reviewer is not None and not reviewer.is_steward:
        raise Forbidden("Only stewards review work.", code=MarketplaceErrorCode.REVIEWER_REQUIRED)


def _require_no_conflict(reviewer: User | None, task_id: int) -> None:
    """A steward who answered a task does not judge it (their own answer, or the answers competing with it)."""
    if reviewer is not None and Answer.objects.filter(task_id=task_id, worker=reviewer).exists():
        raise Forbidden("You answered this task yourself; another steward reviews it.", code=GovernanceErrorCode.CONFLICT_OF_INTEREST)


def _locked_answer(answer: Answer) -> Answer:
    return Answer.objects.select_for_update(of=("self",)).select_related("task__project", "worker").get(pk=answer.pk)


@transaction.atomic
def answer_review(*, reviewer: User | None, answer: Answer, accept: bool, reason: str = "", feedback: str = "") -> Answer:
    """Accept or reject one answer. A rejection needs a reason code and feedback; the worker is notified."""
    _require_reviewer(reviewer)
    answer = _locked_answer(answer)
    _require_no_conflict(reviewer, answer.task_id)
    feedback = (feedback or "").strip()
    if not accept:
        if reason not in ReviewDecision.Reason.values:
            raise ApplicationError("Choose a rejection reason from the list.", fields={"reason": ["Required."]})
        if len(feedback) < 10:
            raise ApplicationError(
                "Write feedback the worker can learn from (at least 10 characters).", fields={"feedback": ["Required."]}
            )
    if answer.status == Answer.Status.REJECTED and not accept and answer.appeal_status != Answer.AppealStatus.PENDING:
        raise Conflict("This answer is already rejected.", code=MarketplaceErrorCode.ALREADY_REJECTED)
    if answer.status == Answer.Status.ACCEPTED:
        raise Conflict("This answer is already accepted and paid; accepted work is never clawed back.", code=MarketplaceErrorCode.ALREADY_ACCEPTED)
    ReviewDecision.objects.create(answer=answer, reviewer=reviewer, accepted=accept, reason="" if accept else reason, feedback=feedback)
    answer.status = Answer.Status.ACCEPTED if accept else Answer.Status.REJECTED
    answer.decided_at = timezone.now()
    answer.save(update_fields=["status", "decided_at"])
    if accept:
        answers_pay([answer.pk])
    else:
        notification_send(
            user=answer.worker,
            kind="answer.rejected",
            title=f"An answer in “{answer.task.project.title}” was rejected",
            body=f"{ReviewDecision.Reason(reason).label}. {feedback} You can appeal this decision.",
            url="/work/submissions/",
        )
    return answer


@transaction.atomic
def task_review_accept(*, reviewer: User | None, task: Task, answer: Answer) -> AcceptedLabel:
    """Resolve a task in review: the chosen answer's value becomes the label (method "review")."""
    _require_reviewer(reviewer)
    task = Task.objects.select_for_update(of=("self",)).select_related("project").get(pk=task.pk)
    _require_no_conflict(reviewer, task.pk)
    if task.state != Task.State.REVIEW:
        raise Conflict("This task is not waiting for review.", code=MarketplaceErrorCode.NOT_IN_REVIEW)
    if answer.task_id != task.pk:
        raise ApplicationError("That answer belongs to another task.")
    answers = answers_counted(task)
    agreement = share(sum(1 for a in answers if a.value == answer.value), len(answers))
    label = label_accept(task=task, value=answer.value, agreement=agreement, method=AcceptedLabel.Method.REVIEW, answers=answers, reviewer=reviewer)
    chosen = list(task.answers.filter(value=answer.value, status=Answer.Status.PENDING).values_list("pk", flat=True))
    Answer.objects.filter(pk__in=chosen).update(status=Answer.Status.ACCEPTED, decided_at=timezone.now())
    answers_pay(chosen)
    return label


@transaction.atomic
def answer_appeal_file(*, worker: User, answer: Answer, reason: str) -> Answer:
    """The worker appeals a rejection, within the appeal window: a governance appeal the members decide."""
    answer = _locked_answer(answer)
    if answer.worker_id != worker.pk:
        raise Forbidden("You can only appeal your own work.")
    if answer.status != Answer.Status.REJECTED:
        raise Conflict("Only rejected answers can be appealed.", code=MarketplaceErrorCode.NOT_REJECTED)
    if answer.appeal_status:
        raise Conflict("This rejection has already been appealed.", code=GovernanceErrorCode.ALREADY_APPEALED)
    closes = appeal_window_closes(answer)
    if closes is not None and timezone.now() >= closes:
        raise Conflict(
            f"The appeal window for this rejection closed on {closes:%Y-%m-%d %H:%M} UTC "
            f"({current_appeal_window_days()} days after the decision).",
            code=MarketplaceErrorCode.APPEAL_WINDOW_CLOSED,
            extra={"appeal_window_closed_at": closes.isoformat()},
        )
    reason = (reason or "").strip()
    if len(reason) < 10:
        raise ApplicationError("Explain why the rejection is wrong (at least 10 characters).", fields={"reason": ["Required."]})
    answer.appeal_status = Answer.AppealStatus.PENDING
    answer.appeal_reason = reason[:4000]
    answer.save(update_fields=["appeal_status", "appeal_reason"])
    rejected_by = ReviewDecision.objects.filter(answer=answer, accepted=False, reviewer__isnull=False).select_related("reviewer")
    appeal_file(
        member=answer.worker,
        subject=answer,
        reason=reason,
        appeal_type="rejection",
        payload={"answer_id": answer.pk, "project": answer.task.project.title},
        involved=[decision.reviewer for decision in rejected_by],
    )
    return answer


@transaction.atomic
def answer_appeal_decide(*, decider: User | None, answer: Answer, overturn: bool, note: str = "") -> Answer:
    """Carry out the members' decision on an appeal (decider None: the governance appeal's result).
    Overturning accepts (and so pays) the answer. Any other decider is refused: stewards do not decide appeals."""
    if decider is not None:
        raise Conflict("Appeals are decided by the members' vote, not by a steward.", code=MarketplaceErrorCode.APPEAL_DECIDED_BY_MEMBERS)
    answer = _locked_answer(answer)
    if answer.appeal_status != Answer.AppealStatus.PENDING:
        raise Conflict("There is no pending appeal on this answer.", code=MarketplaceErrorCode.NO_PENDING_APPEAL)
    answer.appeal_status = Answer.AppealStatus.OVERTURNED if overturn else Answer.AppealStatus.UPHELD
    if overturn:
        answer.status = Answer.Status.ACCEPTED
        answer.decided_at = timezone.now()
        ReviewDecision.objects.create(answer=answer, reviewer=decider, accepted=True, feedback=note or "Appeal upheld: rejection overturned.")
    answer.save(update_fields=["appeal_status", "status", "decided_at"])
    if overturn:
        answers_pay([answer.pk])
    notification_send(
        user=answer.worker,
        kind="answer.appeal_decided",
        title="Your appeal was " + ("upheld: the answer is accepted" if overturn else "not upheld"),
        body=note,
        url="/work/submissions/",
    )
    return answer


def answers_auto_accept_due(*, now=None, batch: int = 500) -> int:
    """Accept (and pay) answers nobody reviewed within their project's review period. Idempotent; returns how many."""
    now = now or timezone.now()
    accepted = 0
    projects = Project.objects.filter(tasks__answers__status=Answer.Status.PENDING).distinct()
    for project in projects:
        cutoff = now - timedelta(hours=project.review_period_hours)
        due = Answer.objects.filter(task__project=project, status=Answer.Status.PENDING, submitted_at__lte=cutoff)
        while True:
            with transaction.atomic():
                ids = list(due.order_by("pk").values_list("pk", flat=True)[:batch])
                if not ids:
                    break
                accepted += Answer.objects.filter(pk__in=ids, status=Answer.Status.PENDING).update(
                    status=Answer.Status.ACCEPTED, decided_at=now
                )
                answers_pay(ids)
    return accepted
