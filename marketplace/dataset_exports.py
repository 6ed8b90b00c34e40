"""Reads for exports that training pipelines take without glue: the accepted labels, every individual answer,
and preference pairs.

- label_rows: the results export, one accepted label per task in acceptance order, its annotators as the
  client's pseudonyms.
- answer_rows: every answer to the project's tasks (not only the consensus label: disagreement is data), with
  the worker as the client's pseudonym, in submission order.
- preference_rows: {"prompt", "chosen", "rejected"}, the shape TRL's reward and DPO trainers read, from the
  accepted labels of a pairwise or ranking project or from every accepted individual answer. A ranking of n
  responses gives a pair for every two responses in different places; ties carry no preference and are left
  out. A conversation prompt (a list of turns) gives TRL's conversational form: the prompt's turns, and the
  chosen and rejected responses as one assistant turn each.

Labels and answers are read by keyset pagination in their export order (indexes label_export_order and
answer_export_order): each chunk is one indexed range query for plain tuples (no model instances), plus one
query for the chunk's annotators, and each worker's pseudonym is computed once. So the first row comes at once
at any size, memory stays constant, and no cursor or transaction stays open while the client downloads (a
server-side cursor outside a transaction is WITH HOLD: PostgreSQL materializes every row before the first).
"""

from __future__ import annotations

from collections.abc import Iterator

from django.db import connection
from django.db.models import QuerySet
from django.db.models.fields.tuple_lookups import Tuple, TupleGreaterThan

from coop.errors import ApplicationError
from coop.exports import chunked
from marketplace.error_codes import MarketplaceErrorCode

from .models import AcceptedLabel, Answer, Project, TaskType
from .selectors import EXPORT_CHUNK, worker_pseudonym

LABEL_FIELDS = ["task_id", "external_id", "label", "agreement", "method", "accepted_at", "annotators"]

ANSWER_FIELDS = ["answer_id", "task_id", "external_id", "is_gold", "worker", "answer", "status", "agrees_with_label",
                 "submitted_at", "decided_at", "active_seconds"]
PREFERENCE_FIELDS = ["prompt", "chosen", "rejected"]
PREFERENCE_SOURCES = ("labels", "answers")


class _Pseudonyms(dict):
    """Worker id -> the organization's pseudonym for them, each HMAC computed once per export."""

    def __init__(self, organization_id: int):
        super().__init__()
        self.organization_id = organization_id

    def __missing__(self, worker_id: int) -> str:
        self[worker_id] = pseudonym = worker_pseudonym(organization_id=self.organization_id, worker_id=worker_id)
        return pseudonym


def _keyset_chunks(rows: QuerySet, key: tuple[str, str]) -> Iterator[list[tuple]]:
    """Chunks of EXPORT_CHUNK tuples of `rows` (values_list leading with the two `key` columns, ordered by them),
    each read as `WHERE (key) > (last row's key) ... LIMIT`: one indexed range scan per chunk."""
    after = None
    while True:
        page = rows if after is None else rows.filter(TupleGreaterThan(Tuple(*key), after))
        chunk = list(page[:EXPORT_CHUNK])
        if chunk:
            yield chunk
        if len(chunk) < EXPORT_CHUNK:
            return
        after = chunk[-1][:2]


def label_rows(*, project: Project, since=None) -> Iterator[dict]:
    """Accepted labels in acceptance order (index label_export_order), with their annotators' pseudonyms."""
    labels = (
        AcceptedLabel.objects.filter(project=project)
        .order_by("accepted_at", "id")
        .values_list("accepted_at", "pk", "task_id", "task__external_id", "label", "agreement", "method")
    )
    if since is not None:
        labels = labels.filter(accepted_at__gt=since)
    through = AcceptedLabel.answers.through
    pseudonyms = _Pseudonyms(project.organization_id)
    for chunk in _keyset_chunks(labels, ("accepted_at", "id")):
        annotators: dict[int, list[str]] = {}
        for label_id, worker_id in _annotator_links(through, [row[1] for row in chunk]):
            annotators.setdefault(label_id, []).append(pseudonyms[worker_id])
        for accepted_at, pk, task_id, external_id, label, agreement, method in chunk:
            yield {
                "task_id": task_id,
                "external_id": external_id,
                "label": label,
                "agreement": str(agreement),
                "method": method,
                "accepted_at": accepted_at.isoformat(),
                "annotators": sorted(annotators.get(pk, ())),
            }


def _annotator_links(through, label_ids: list[int]):
    """(label id, worker id) for the labels' agreeing answers. On PostgreSQL the ids go as one array parameter
    (`= ANY(%s)`), not as thousands of placeholders the driver has to parse for every chunk."""
    if connection.vendor != "postgresql":
        return through.objects.filter(acceptedlabel_id__in=label_ids).values_list("acceptedlabel_id", "answer__worker_id")
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT link.acceptedlabel_id, answer.worker_id FROM {through._meta.db_table} link "
            f"JOIN {Answer._meta.db_table} answer ON answer.id = link.answer_id WHERE link.acceptedlabel_id = ANY(%s)",
            [label_ids],
        )
        return cursor.fetchall()


def answer_rows(*, project: Project, since=None) -> Iterator[dict]:
    """Every answer to the project's tasks (gold included, flagged), oldest first."""
    answers = (
        Answer.objects.filter(task__project=project)
        .order_by("submitted_at", "id")
        .values_list("submitted_at", "pk", "task_id", "task__external_id", "task__is_gold", "worker_id", "payload", "status",
                     "agrees_with_label", "decided_at", "active_seconds")
    )
    if since is not None:
        answers = answers.filter(submitted_at__gt=since)
    pseudonyms = _Pseudonyms(project.organization_id)
    for chunk in _keyset_chunks(answers, ("submitted_at", "id")):
        for submitted, pk, task_id, external_id, is_gold, worker_id, payload, status, agrees, decided, seconds in chunk:
            yield {
                "answer_id": pk,
                "task_id": task_id,
                "external_id": external_id,
                "is_gold": is_gold,
                "worker": pseudonyms[worker_id],
                "answer": payload,
                "status": status,
                "agrees_with_label": agrees,
                "submitted_at": submitted.isoformat(),
                "decided_at": decided.isoformat() if decided else None,
                "active_seconds": seconds,
            }


def _pair(prompt, chosen: str, rejected: str) -> dict:
    if isinstance(prompt, list):  # a conversation: TRL's conversational preference format
        return {"prompt": prompt, "chosen": [{"role": "assistant", "content": chosen}], "rejected": [{"role": "assistant", "content": rejected}]}
    return {"prompt": prompt, "chosen": chosen, "rejected": rejected}


def pairs_of(task_type: str, data: dict, value: str) -> Iterator[dict]:
    """The preference pairs one pairwise or ranking answer (its normalized value) states about its task."""
    if task_type == TaskType.PAIRWISE:
        if value == "a":
            yield _pair(data["prompt"], data["response_a"], data["response_b"])
        elif value == "b":
            yield _pair(data["prompt"], data["response_b"], data["response_a"])
        return  # a tie states no preference
    groups = [[int(i) for i in group.split("=")] for group in value.split(">")]
    responses = data["responses"]
    for rank, better in enumerate(groups):
        for worse in groups[rank + 1 :]:
            for i in better:
                for j in worse:
                    yield _pair(data["prompt"], responses[i], responses[j])


def preference_check(project: Project, source: str) -> None:
    """Refuse a preference export the project cannot give (ApplicationError 400/409)."""
    if project.task_type not in (TaskType.PAIRWISE, TaskType.RANKING):
        raise ApplicationError(
            "Preference pairs come from pairwise and ranking projects.", code=MarketplaceErrorCode.NOT_A_PREFERENCE_PROJECT, status=409
        )
    if source not in PREFERENCE_SOURCES:
        raise ApplicationError(
            "source must be labels (one pair per task, from the consensus) or answers (one pair per accepted answer).",
            fields={"source": ["labels or answers"]},
            status=400,
        )


def preference_rows(*, project: Project, source: str = "labels") -> Iterator[dict]:
    """Preference pairs of a pairwise or ranking project (call preference_check first)."""
    if source == "labels":
        rows = (
            AcceptedLabel.objects.filter(project=project, task__is_gold=False)
            .order_by("accepted_at", "id")
            .values_list("task__data", "value")
        )
    else:
        rows = (
            Answer.objects.filter(task__project=project, task__is_gold=False, status=Answer.Status.ACCEPTED)
            .order_by("submitted_at", "id")
            .values_list("task__data", "value")
        )
    for chunk in chunked(rows.iterator(chunk_size=EXPORT_CHUNK), EXPORT_CHUNK):
        for data, value in chunk:
            yield from pairs_of(project.task_type, data, value)
