"""Consensus: turning a task's answers into an accepted label, or asking for more answers, or review.

Rule (documented for workers and clients alike):
- Answers are compared by their normalized value (OCR: NFKC, trimmed, inner
  whitespace collapsed, case folded unless the project is case-sensitive;
  classification: the choice; pairwise: a / b / tie; multi-label: the set of
  labels; ranking: the order, ties included). A rubric answer agrees with
  another when every dimension is within the project's tolerance (in scale
  points; 0 = exact): the label is the answer most others agree with.
- Rewrites have no single right answer: once a rewrite task's answers are in,
  it goes to review, where a steward picks the best (all are paid unless
  rejected with a reason).
- agreement = (answers with the most common value) / (answers counted),
  rounded down to 3 decimals. A tie for the most common value is no consensus.
- agreement ≥ the project's target → the label is accepted (method
  "consensus") and every answer is accepted (paid); answers that disagreed are
  marked so, for quality statistics, but are not rejected. Accepted answers
  are paid in the same transaction (services/payment.py).
- Otherwise, while the task needs fewer answers than the project's maximum
  overlap, it asks for one more answer (dynamic overlap); at the maximum it
  goes to the review queue.
"""

from __future__ import annotations

from collections import Counter
from decimal import ROUND_DOWN, Decimal

from django.db import transaction
from django.db.models import Case, Value, When
from django.utils import timezone

from ..models import AcceptedLabel, Answer, Task, TaskType
from ..task_types import agrees, label_from_value, rubric_agreement
from .payment import answers_pay

THOUSANDTH = Decimal("0.001")


def share(count: int, total: int) -> Decimal:
    """count / total rounded down to 3 decimals (0 when there is nothing to count)."""
    if total <= 0:
        return Decimal(0)
    return (Decimal(count) / Decimal(total)).quantize(THOUSANDTH, rounding=ROUND_DOWN)


def agreement_of(values: list[str]) -> tuple[str | None, Decimal]:
    """The winning value (None on a tie or no answers) and its share of the answers."""
    if not values:
        return None, Decimal(0)
    ranked = Counter(values).most_common()
    top_value, top_count = ranked[0]
    top_share = share(top_count, len(values))
    if len(ranked) > 1 and ranked[1][1] == top_count:
        return None, top_share
    return top_value, top_share


def label_accept(*, task: Task, value: str, agreement: Decimal, method: str, answers: list[Answer], reviewer=None) -> AcceptedLabel:
    """Record the task's label with its provenance. Call while holding the task's row lock."""
    from .webhooks import webhook_enqueue

    project = task.project
    agreeing = [a for a in answers if agrees(project, a.value, value)]
    label = AcceptedLabel.objects.create(
        task=task,
        project=project,
        value=value,
        label=label_from_value(project, value, [a.payload for a in agreeing]),
        agreement=agreement,
        method=method,
        reviewer=reviewer,
    )
    label.answers.set(agreeing)
    agreeing_ids = [a.pk for a in agreeing]
    Answer.objects.filter(pk__in=[a.pk for a in answers]).update(
        agrees_with_label=Case(When(pk__in=agreeing_ids, then=Value(True)), default=Value(False))
    )
    task.state = Task.State.ACCEPTED
    task.save(update_fields=["state"])
    webhook_enqueue(
        project=project,
        event="task.accepted",
        event_key=f"task.accepted:{task.pk}",
        payload={"task_id": task.pk, "external_id": task.external_id, "label": label.label, "agreement": str(agreement), "method": method},
    )
    transaction.on_commit(lambda: _check_completion(project.pk))
    return label


def _check_completion(project_id: int) -> None:
    from ..tasks import project_check_completion

    project_check_completion.send(project_id)


def task_resolve(*, task: Task) -> str:
    """Aggregate a task whose answers are all in. Call while holding the task's row lock.

    Returns what happened: "accepted", "more_answers" or "review".
    """
    answers = list(task.answers.exclude(status=Answer.Status.REJECTED).order_by("pk"))
    project = task.project
    if project.task_type == TaskType.REWRITE:
        task.state = Task.State.REVIEW  # judged, not matched: a steward picks the best rewrite
        task.save(update_fields=["state"])
        return "review"
    if project.task_type == TaskType.RUBRIC and (project.task_config or {}).get("tolerance"):
        value, agreement = rubric_agreement([a.value for a in answers], project.task_config["tolerance"])
    else:
        value, agreement = agreement_of([a.value for a in answers])
    if value is not None and agreement >= project.agreement_target:
        label_accept(task=task, value=value, agreement=agreement, method=AcceptedLabel.Method.CONSENSUS, answers=answers)
        now = timezone.now()
        Answer.objects.filter(pk__in=[a.pk for a in answers], status=Answer.Status.PENDING).update(
            status=Answer.Status.ACCEPTED, decided_at=now
        )
        answers_pay(a.pk for a in answers)
        return "accepted"
    if task.required_answers < project.max_overlap:
        task.required_answers += 1
        task.state = Task.State.OPEN
        task.save(update_fields=["required_answers", "state"])
        return "more_answers"
    task.state = Task.State.REVIEW
    task.save(update_fields=["state"])
    return "review"
