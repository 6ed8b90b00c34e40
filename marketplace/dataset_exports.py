"""Reads for exports that training pipelines take without glue: every individual answer, and preference pairs.

- answer_rows: every answer to the project's tasks (not only the consensus label: disagreement is data), with
  the worker as the client's pseudonym, in submission order.
- preference_rows: {"prompt", "chosen", "rejected"}, the shape TRL's reward and DPO trainers read, from the
  accepted labels of a pairwise or ranking project or from every accepted individual answer. A ranking of n
  responses gives a pair for every two responses in different places; ties carry no preference and are left
  out. A conversation prompt (a list of turns) gives TRL's conversational form: the prompt's turns, and the
  chosen and rejected responses as one assistant turn each.

Both stream from a server-side cursor in chunks, one query per chunk: constant memory at any size.
"""

from __future__ import annotations

from collections.abc import Iterator

from coop.errors import ApplicationError
from coop.exports import chunked

from .models import AcceptedLabel, Answer, Project, TaskType
from .selectors import EXPORT_CHUNK, worker_pseudonym

ANSWER_FIELDS = ["answer_id", "task_id", "external_id", "is_gold", "worker", "answer", "status", "agrees_with_label",
                 "submitted_at", "decided_at", "active_seconds"]
PREFERENCE_FIELDS = ["prompt", "chosen", "rejected"]
PREFERENCE_SOURCES = ("labels", "answers")


def answer_rows(*, project: Project, since=None) -> Iterator[dict]:
    """Every answer to the project's tasks (gold included, flagged), oldest first."""
    answers = (
        Answer.objects.filter(task__project=project)
        .order_by("submitted_at", "id")
        .values_list("pk", "task_id", "task__external_id", "task__is_gold", "worker_id", "payload", "status",
                     "agrees_with_label", "submitted_at", "decided_at", "active_seconds")
    )
    if since is not None:
        answers = answers.filter(submitted_at__gt=since)
    pseudonyms: dict[int, str] = {}
    for pk, task_id, external_id, is_gold, worker_id, payload, status, agrees, submitted, decided, seconds in answers.iterator(
        chunk_size=EXPORT_CHUNK
    ):
        if worker_id not in pseudonyms:
            pseudonyms[worker_id] = worker_pseudonym(organization_id=project.organization_id, worker_id=worker_id)
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
            "Preference pairs come from pairwise and ranking projects.", code="not_a_preference_project", status=409
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
