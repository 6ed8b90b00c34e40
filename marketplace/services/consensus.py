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

import functools
import json
from collections import Counter
from decimal import Decimal

from django.db import connection
from django.db.models import Case, F, Value, When
from django.utils import timezone

from coop.jobs import enqueue_coalesced_on_commit
from coop.rows import fetch_all, select_list

from ..models import AcceptedLabel, Answer, Task, TaskType
from ..task_types import agrees, label_from_value, rubric_agreement, share
from .payment import answers_pay


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


def label_accept(
    *, task: Task, value: str, agreement: Decimal, method: str, answers: list[Answer], reviewer=None, accept_pending: bool = False
) -> AcceptedLabel:
    """Record the task's label with its provenance. Call while holding the task's row lock.

    With `accept_pending`, the answers still pending are accepted in the same UPDATE that marks which agree
    (consensus: one statement for both); the objects passed in are updated to match.
    """
    from .webhooks import webhook_enqueue

    project = task.project
    agreeing = [a for a in answers if agrees(project, a.value, value)]
    agreeing_ids = {a.pk for a in agreeing}
    now = timezone.now()
    label = AcceptedLabel(
        task=task,
        project=project,
        value=value,
        label=label_from_value(project, value, [a.payload for a in agreeing]),
        agreement=agreement,
        method=method,
        reviewer=reviewer,
        accepted_at=now,
    )
    task.state = Task.State.ACCEPTED
    if connection.vendor == "postgresql":
        _accept_in_one_statement(label, task, answers, agreeing_ids, accept_pending=accept_pending, now=now)
    else:
        label.save()
        AcceptedLabel.answers.through.objects.bulk_create(
            [AcceptedLabel.answers.through(acceptedlabel_id=label.pk, answer_id=pk) for pk in sorted(agreeing_ids)]
        )
        changes = {"agrees_with_label": Case(When(pk__in=agreeing_ids, then=Value(True)), default=Value(False))}
        if accept_pending:
            changes |= {
                "status": Case(When(status=Answer.Status.PENDING, then=Value(Answer.Status.ACCEPTED)), default=F("status")),
                "decided_at": Case(When(status=Answer.Status.PENDING, then=Value(now)), default=F("decided_at")),
            }
        Answer.objects.filter(pk__in=[a.pk for a in answers]).update(**changes)
        task.save(update_fields=["state", "answer_count"])
    for answer in answers:
        answer.agrees_with_label = answer.pk in agreeing_ids
        if accept_pending and answer.status == Answer.Status.PENDING:
            answer.status, answer.decided_at = Answer.Status.ACCEPTED, now
    webhook_enqueue(
        project=project,
        event="task.accepted",
        event_key=f"task.accepted:{task.pk}",
        payload={"task_id": task.pk, "external_id": task.external_id, "label": label.label, "agreement": str(agreement), "method": method},
    )
    # One check per burst of acceptances, not one per label (it reviews the whole project's measured pay).
    enqueue_coalesced_on_commit("project_check_completion", project.pk)
    return label


# PostgreSQL: the label, its provenance rows, the answers' outcome and the task's new state in one round trip
# (data-modifying CTEs, one snapshot; the caller holds the task's row lock). The ORM path above writes the same.
ACCEPT_SQL = """
WITH label AS (
    INSERT INTO marketplace_acceptedlabel (task_id, project_id, value, label, agreement, method, reviewer_id, accepted_at)
    VALUES (%(task)s, %(project)s, %(value)s, %(label)s::jsonb, %(agreement)s, %(method)s, %(reviewer)s, %(now)s)
    RETURNING id
), provenance AS (
    INSERT INTO marketplace_acceptedlabel_answers (acceptedlabel_id, answer_id)
    SELECT label.id, agreeing.id FROM label, UNNEST(%(agreeing)s::bigint[]) AS agreeing(id)
), outcome AS (
    UPDATE marketplace_answer
    SET agrees_with_label = (id = ANY(%(agreeing)s::bigint[])),
        status = CASE WHEN %(accept_pending)s AND status = 'pending' THEN 'accepted' ELSE status END,
        decided_at = CASE WHEN %(accept_pending)s AND status = 'pending' THEN %(now)s ELSE decided_at END
    WHERE id = ANY(%(answers)s::bigint[])
), accepted AS (
    UPDATE marketplace_task SET state = 'accepted', answer_count = %(answer_count)s WHERE id = %(task)s
)
SELECT id FROM label
"""


def _accept_in_one_statement(label: AcceptedLabel, task: Task, answers, agreeing_ids, *, accept_pending: bool, now) -> None:
    params = {
        "task": task.pk,
        "project": label.project.pk,
        "value": label.value,
        "label": json.dumps(label.label),
        "agreement": label.agreement,
        "method": label.method,
        "reviewer": label.reviewer.pk if label.reviewer else None,
        "now": now,
        "agreeing": sorted(agreeing_ids),
        "answers": [a.pk for a in answers],
        "accept_pending": accept_pending,
        "answer_count": task.answer_count,
    }
    with connection.cursor() as cursor:
        cursor.execute(ACCEPT_SQL, params)
        label.pk = cursor.fetchone()[0]
    label._state.adding = False


@functools.cache
def _answers_sql() -> str:
    """A task's answers but the rejected, oldest first: hand-written (coop.rows), as the ORM took 0.7 ms to build it."""
    return f"SELECT {select_list(Answer, 'a')} FROM {Answer._meta.db_table} a WHERE a.task_id = %s AND a.status <> %s ORDER BY a.id"


def answers_counted(task: Task) -> list[Answer]:
    """What `task.answers.exclude(status=REJECTED).order_by("pk")` returns, each answer holding its task (as the
    related manager sets it), so paying them never reads the task again."""
    answers = fetch_all(_answers_sql(), [task.pk, Answer.Status.REJECTED], Answer)
    for answer in answers:
        answer.task = task
    return answers


def task_resolve(*, task: Task, latest: Answer | None = None) -> str:
    """Aggregate a task whose answers are all in. Call while holding the task's row lock.

    Saves the task's state (and its answer count, which the caller may have just raised). `latest`, the
    answer just submitted, is updated in place with the outcome (no re-read). Returns what happened:
    "accepted", "more_answers" or "review".
    """
    answers = answers_counted(task)
    if latest is not None:
        answers = [latest if a.pk == latest.pk else a for a in answers]
    project = task.project
    if project.task_type == TaskType.REWRITE:
        task.state = Task.State.REVIEW  # judged, not matched: a steward picks the best rewrite
        task.save(update_fields=["state", "answer_count"])
        return "review"
    if project.task_type == TaskType.RUBRIC and (project.task_config or {}).get("tolerance"):
        value, agreement = rubric_agreement([a.value for a in answers], project.task_config["tolerance"])
    else:
        value, agreement = agreement_of([a.value for a in answers])
    if value is not None and agreement >= project.agreement_target:
        pending = [a for a in answers if a.status == Answer.Status.PENDING]
        label_accept(
            task=task, value=value, agreement=agreement, method=AcceptedLabel.Method.CONSENSUS, answers=answers, accept_pending=True
        )
        answers_pay(pending, fresh=True)  # accepted from pending just now: none can have been paid
        earlier = [a for a in answers if a.status == Answer.Status.ACCEPTED and a not in pending]
        if earlier:
            answers_pay(earlier)  # accepted before (none in practice): paid whatever they are still owed
        return "accepted"
    if task.required_answers < project.max_overlap:
        task.required_answers += 1
        task.state = Task.State.OPEN
        task.save(update_fields=["required_answers", "state", "answer_count"])
        return "more_answers"
    task.state = Task.State.REVIEW
    task.save(update_fields=["state", "answer_count"])
    return "review"
