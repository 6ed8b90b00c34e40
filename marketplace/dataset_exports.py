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

from .models import AcceptedLabel, Answer, Project, Task, TaskType, WorkerProjectStats
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


# --- PostgreSQL: the JSON of each row built by the database --------------------------------------------------------
# At a million rows the Python path spends most of its time turning columns into objects and back into JSON
# (datetimes parsed then formatted, JSON payloads decoded then encoded). On PostgreSQL each chunk comes back as
# finished JSON text, one compact object per row with the same keys, order and values as label_rows/answer_rows
# (tests/marketplace/test_export_lines.py compares them). The pseudonyms (an HMAC under a key the database never
# sees) go in as two arrays, worker ids and names; a chunk that meets a worker not named yet comes back with those
# ids, and is read again once they are.

def _iso(column: str) -> str:
    """SQL for `column` (timestamptz) exactly as Python's datetime.isoformat() writes it in UTC."""
    utc = f"({column} AT TIME ZONE 'UTC')"
    return (
        f"to_char({utc}, 'YYYY-MM-DD\"T\"HH24:MI:SS') || "
        f"CASE WHEN date_part('microseconds', {utc})::int %% 1000000 <> 0 THEN to_char({utc}, '.US') ELSE '' END || '+00:00'"
    )


def _json_text(sql: str) -> str:
    return f"coalesce(to_json({sql})::text, 'null')"


def _line_separators_escaped(sql: str) -> str:
    """The line's text with U+2028 and U+2029 written as JSON escapes (valid JSON either way, but Python's
    splitlines() and JavaScript before ES2019 break a line on them; the Python path escapes all non-ASCII)."""
    return f"replace(replace({sql}, E'\\u2028', '\\u2028'), E'\\u2029', '\\u2029')"


_NAMES = "names AS (SELECT * FROM unnest(%(ids)s::bigint[], %(names)s::text[]) AS n(worker_id, pseudonym))"


def _label_sql(since: bool) -> str:
    label, task = AcceptedLabel._meta.db_table, Task._meta.db_table
    link, answer = AcceptedLabel.answers.through._meta.db_table, Answer._meta.db_table
    line = (
        f"""'{{"task_id":' || chunk.task_id || ',"external_id":' || {_json_text("task.external_id")}
           || ',"label":' || chunk.label::text || ',"agreement":' || to_json(chunk.agreement::text)::text
           || ',"method":' || to_json(chunk.method)::text || ',"accepted_at":"' || {_iso("chunk.accepted_at")}
           || '","annotators":' || coalesce(annotators.names::text, '[]') || '}}'"""
    )
    return f"""
    WITH {_NAMES},
    chunk AS (
        SELECT id, task_id, label, agreement, method, accepted_at FROM {label}
        WHERE project_id = %(project)s AND (accepted_at, id) > (%(after_at)s, %(after_id)s)
        {"AND accepted_at > %(since)s" if since else ""}
        ORDER BY accepted_at, id LIMIT %(limit)s
    ),
    annotators AS (
        SELECT link.acceptedlabel_id AS id,
               coalesce(json_agg(names.pseudonym ORDER BY names.pseudonym COLLATE "C")
                        FILTER (WHERE names.pseudonym IS NOT NULL), '[]') AS names,
               array_agg(answer.worker_id) FILTER (WHERE names.pseudonym IS NULL) AS missing
        FROM chunk JOIN {link} link ON link.acceptedlabel_id = chunk.id
        JOIN {answer} answer ON answer.id = link.answer_id
        LEFT JOIN names ON names.worker_id = answer.worker_id
        GROUP BY link.acceptedlabel_id
    )
    SELECT chunk.accepted_at, chunk.id, {_line_separators_escaped(line)}, annotators.missing
    FROM chunk JOIN {task} task ON task.id = chunk.task_id LEFT JOIN annotators ON annotators.id = chunk.id
    ORDER BY chunk.accepted_at, chunk.id
    """


def _answer_sql(since: bool) -> str:
    answer, task = Answer._meta.db_table, Task._meta.db_table
    line = (
        f"""'{{"answer_id":' || chunk.id || ',"task_id":' || chunk.task_id || ',"external_id":' || {_json_text("chunk.external_id")}
           || ',"is_gold":' || chunk.is_gold || ',"worker":' || {_json_text("names.pseudonym")}
           || ',"answer":' || chunk.payload::text || ',"status":' || to_json(chunk.status)::text
           || ',"agrees_with_label":' || coalesce(chunk.agrees_with_label::text, 'null')
           || ',"submitted_at":"' || {_iso("chunk.submitted_at")} || '","decided_at":'
           || coalesce('"' || {_iso("chunk.decided_at")} || '"', 'null')
           || ',"active_seconds":' || chunk.active_seconds || '}}'"""
    )
    return f"""
    WITH {_NAMES},
    chunk AS (
        SELECT answer.id, answer.task_id, task.external_id, task.is_gold, answer.worker_id, answer.payload, answer.status,
               answer.agrees_with_label, answer.submitted_at, answer.decided_at, answer.active_seconds
        FROM {answer} answer JOIN {task} task ON task.id = answer.task_id
        WHERE task.project_id = %(project)s AND (answer.submitted_at, answer.id) > (%(after_at)s, %(after_id)s)
        {"AND answer.submitted_at > %(since)s" if since else ""}
        ORDER BY answer.submitted_at, answer.id LIMIT %(limit)s
    )
    SELECT chunk.submitted_at, chunk.id, {_line_separators_escaped(line)},
           CASE WHEN names.pseudonym IS NULL THEN ARRAY[chunk.worker_id] END
    FROM chunk LEFT JOIN names ON names.worker_id = chunk.worker_id
    ORDER BY chunk.submitted_at, chunk.id
    """


_EPOCH = "-infinity"


def _json_lines(sql: str, *, project: Project, since) -> Iterator[str]:
    pseudonyms = _Pseudonyms(project.organization_id)
    for worker_id in WorkerProjectStats.objects.filter(project=project).values_list("worker_id", flat=True).iterator():
        pseudonyms[worker_id]  # noqa: B018  (names every worker who ever claimed here, once)
    params = {"project": project.pk, "after_at": _EPOCH, "after_id": 0, "since": since, "limit": EXPORT_CHUNK}
    with connection.cursor() as cursor:
        while True:
            params["ids"], params["names"] = list(pseudonyms), list(pseudonyms.values())
            cursor.execute(sql, params)
            chunk = cursor.fetchall()
            missing = {worker_id for row in chunk if row[3] for worker_id in row[3]}
            if missing:  # a worker without a stats row: name them and read the chunk again
                assert not missing & pseudonyms.keys(), "named workers came back unnamed"
                for worker_id in missing:
                    pseudonyms[worker_id]  # noqa: B018
                continue
            for row in chunk:
                yield row[2]
            if len(chunk) < EXPORT_CHUNK:
                return
            params["after_at"], params["after_id"] = chunk[-1][0], chunk[-1][1]


def label_lines(*, project: Project, since=None) -> Iterator[str] | None:
    """label_rows as finished JSON text, one object per row, on PostgreSQL; None elsewhere (use label_rows)."""
    if connection.vendor != "postgresql":
        return None
    return _json_lines(_label_sql(since is not None), project=project, since=since)


def answer_lines(*, project: Project, since=None) -> Iterator[str] | None:
    """answer_rows as finished JSON text, one object per row, on PostgreSQL; None elsewhere (use answer_rows)."""
    if connection.vendor != "postgresql":
        return None
    return _json_lines(_answer_sql(since is not None), project=project, since=since)


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
