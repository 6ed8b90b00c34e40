"""Reads of the marketplace."""

from __future__ import annotations

import functools
from collections.abc import Iterator

from django.db import connection
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from coop.exports import chunked
from coop.models import ClientOrganization, User
from coop.rows import fetch_row, select_list

from .ledger.selectors import paid_by_answer
from .models import AcceptedLabel, Answer, Assignment, ClientRating, Project, ReviewDecision, Task
from .pay import PAY_FLOOR, pay_floor_of
from .pseudonyms import worker_pseudonym  # noqa: F401  (re-exported for callers of the old place)

EXPORT_CHUNK = 2000


def project_for_client(*, organization: ClientOrganization, project_id) -> Project | None:
    """A client's own project, or None (callers answer 404: another organization's project never leaks)."""
    try:
        return Project.objects.select_related("organization").get(pk=int(project_id), organization=organization)
    except (Project.DoesNotExist, ValueError, TypeError):
        return None


# A member's every claim names its project: one row of plain SQL built into a Project by coop.rows (the ORM's own
# converters, the columns named from the model), 0.1 ms of Python against 1.33 ms for the query the ORM builds and
# about 1 ms for Project.objects.raw, which works out the columns' order from the cursor again for every row. On
# PostgreSQL the same statement reads the pay floor in force, which the claim checks (one round trip less).
_PROJECT_FOR_WORK_SQL = (
    "SELECT {columns}, EXISTS (SELECT 1 FROM {qualifications} q WHERE q.project_id = p.id), {floor}"
    " FROM {projects} p WHERE p.id = %s AND p.status <> %s"
)


@functools.cache
def _project_for_work_sql(vendor: str) -> str:
    from governance.selectors import policy_value_sql

    return _PROJECT_FOR_WORK_SQL.format(
        columns=select_list(Project, "p"),
        qualifications=Project.required_qualifications.through._meta.db_table,
        floor=policy_value_sql() if vendor == "postgresql" else "NULL",  # SQLite would give the decimal as a float
        projects=Project._meta.db_table,
    )


def project_for_work(*, project_id: int) -> Project | None:
    """The project a member asks work of, annotated `requires_qualifications` and, on PostgreSQL, `pay_floor_now`
    (the floor in force as it was read); None for a draft (the client's private business: members get the answer
    a missing project gets) or a missing one."""
    vendor = connection.vendor
    params = [PAY_FLOOR, timezone.now()] if vendor == "postgresql" else []
    found = fetch_row(_project_for_work_sql(vendor), [*params, project_id, Project.Status.DRAFT], [Project])
    if found is None:
        return None
    (project,), (requires_qualifications, floor) = found
    project.requires_qualifications = bool(requires_qualifications)  # SQLite answers EXISTS with 0 or 1
    if vendor == "postgresql":
        project.pay_floor_now = pay_floor_of(floor)
    return project


def project_dua(project: Project):
    """The data-use agreement governing the project's data now: the version it was published under, followed to
    its ratified amendment (dua_in_force); for a project never published, the one that would cover it today."""
    from governance.selectors import dua_covering, dua_in_force

    if project.dua_id is not None:
        return dua_in_force(project.dua)
    return dua_covering(organization=project.organization, task_type=project.task_type)


def project_list_for_client(*, organization: ClientOrganization) -> QuerySet[Project]:
    return (
        Project.objects.filter(organization=organization)
        .select_related("organization")
        .prefetch_related("required_qualifications")
        .order_by("-created_at")
    )


def project_progress(*, project: Project) -> dict:
    """Counts by task state (regular tasks), gold tasks, answers and live leases: one query each."""
    by_state = dict(
        Task.objects.filter(project=project, is_gold=False).values_list("state").annotate(n=Count("id")).values_list("state", "n")
    )
    tasks_total = sum(by_state.values())
    answers = Answer.objects.filter(task__project=project).aggregate(
        total=Count("id"),
        pending=Count("id", filter=Q(status=Answer.Status.PENDING)),
        accepted=Count("id", filter=Q(status=Answer.Status.ACCEPTED)),
        rejected=Count("id", filter=Q(status=Answer.Status.REJECTED)),
    )
    return {
        "tasks": tasks_total,
        "gold_tasks": Task.objects.filter(project=project, is_gold=True).count(),
        "open": by_state.get(Task.State.OPEN, 0),
        "in_progress": by_state.get(Task.State.FULL, 0),
        "in_review": by_state.get(Task.State.REVIEW, 0),
        "accepted": by_state.get(Task.State.ACCEPTED, 0),
        "answers": answers,
        "live_leases": Assignment.objects.filter(project=project, state=Assignment.State.LEASED).count(),
        "percent_done": round(100 * by_state.get(Task.State.ACCEPTED, 0) / tasks_total, 1) if tasks_total else 0.0,
    }


def label_rows(*, project: Project, since=None) -> Iterator[dict]:
    """Accepted labels in acceptance order, streamed from the database in chunks (constant memory)."""
    labels = AcceptedLabel.objects.filter(project=project).select_related("task").order_by("accepted_at", "id")
    if since is not None:
        labels = labels.filter(accepted_at__gt=since)
    through = AcceptedLabel.answers.through
    for chunk in chunked(labels.iterator(chunk_size=EXPORT_CHUNK), EXPORT_CHUNK):
        workers: dict[int, list[str]] = {}
        rows = through.objects.filter(acceptedlabel_id__in=[label.pk for label in chunk]).values_list(
            "acceptedlabel_id", "answer__worker_id"
        )
        for label_id, worker_id in rows:
            workers.setdefault(label_id, []).append(
                worker_pseudonym(organization_id=project.organization_id, worker_id=worker_id)
            )
        for label in chunk:
            yield {
                "task_id": label.task_id,
                "external_id": label.task.external_id,
                "label": label.label,
                "agreement": str(label.agreement),
                "method": label.method,
                "accepted_at": label.accepted_at.isoformat(),
                "annotators": sorted(workers.get(label.pk, [])),
            }


def client_ratings(*, organization_ids) -> dict[int, dict]:
    """Average member ratings per client (one decimal), with how many members rated: one query."""
    from django.db.models import Avg

    rows = (
        ClientRating.objects.filter(organization_id__in=organization_ids)
        .values("organization_id")
        .annotate(n=Count("id"), **{field: Avg(field) for field in ClientRating.SCORES})
    )
    return {
        row["organization_id"]: {"count": row["n"], **{f: round(float(row[f]), 1) for f in ClientRating.SCORES}} for row in rows
    }


def submissions_of(*, worker: User) -> QuerySet[Answer]:
    return (
        Answer.objects.filter(worker=worker)
        .select_related("task__project__organization")
        .prefetch_related("decisions")
        .order_by("-submitted_at")
    )


def review_queue() -> dict:
    tasks = (
        Task.objects.filter(state=Task.State.REVIEW)
        .select_related("project")
        .prefetch_related("answers__worker__membership")
        .order_by("id")[:50]
    )
    appeals = (
        Answer.objects.filter(appeal_status=Answer.AppealStatus.PENDING)
        .select_related("task__project", "worker__membership")
        .prefetch_related("decisions")
        .order_by("submitted_at")[:50]
    )
    pending = (
        Answer.objects.filter(status=Answer.Status.PENDING).exclude(task__state=Task.State.REVIEW)
        .select_related("task__project", "worker__membership")
        .order_by("submitted_at")[:50]
    )
    return {"tasks": tasks, "appeals": appeals, "pending": pending}


RECORD_FIELDS = [
    "assignment_id", "project_id", "project", "client", "task_type", "task_external_id", "data_use_agreement",
    "started_at", "ended_at", "active_seconds", "outcome", "answer_status", "pay", "currency", "feedback", "appeal",
]


def work_records(*, worker: User, date_from=None, date_to=None) -> Iterator[dict]:
    """Every assignment of a worker, newest first, as plain rows: the record the worker owns and can take away.

    `pay` is what the ledger paid for the answer (earning plus any top-ups; 0
    for rejected, pending or not yet paid work); streamed in
    chunks so a long history exports in constant memory. Only ever the worker's own rows.
    """
    assignments = (
        Assignment.objects.filter(worker=worker)
        .select_related("project__organization", "project__dua", "task", "answer")
        .order_by("-leased_at", "-id")
    )
    if date_from is not None:
        assignments = assignments.filter(leased_at__date__gte=date_from)
    if date_to is not None:
        assignments = assignments.filter(leased_at__date__lte=date_to)
    for chunk in chunked(assignments.iterator(chunk_size=EXPORT_CHUNK), EXPORT_CHUNK):
        answer_ids = [a.answer.pk for a in chunk if hasattr(a, "answer")]
        paid = paid_by_answer(answer_ids)
        feedback: dict[int, list[str]] = {}
        for answer_id, reason, text in ReviewDecision.objects.filter(answer_id__in=answer_ids, accepted=False).values_list(
            "answer_id", "reason", "feedback"
        ):
            feedback.setdefault(answer_id, []).append(f"{ReviewDecision.Reason(reason).label}: {text}")
        for a in chunk:
            answer = getattr(a, "answer", None)
            project = a.project
            dua = project.dua
            yield {
                "assignment_id": a.pk,
                "project_id": project.pk,
                "project": project.title,
                "client": project.organization.name,
                "task_type": project.task_type,
                "task_external_id": a.task.external_id,
                "data_use_agreement": f"DUA #{dua.pk} v{dua.version}" if dua else "",
                "started_at": a.leased_at.isoformat(),
                "ended_at": a.ended_at.isoformat() if a.ended_at else "",
                "active_seconds": a.active_seconds,
                "outcome": a.state,
                "answer_status": answer.status if answer else "",
                "pay": str(paid.get(answer.pk, 0)) if answer else "0",
                "currency": project.currency,
                "feedback": " | ".join(feedback.get(answer.pk, [])) if answer else "",
                "appeal": answer.appeal_status if answer else "",
            }


def tasks_page(*, project: Project, state: str | None = None, gold: bool | None = None, external_id: str | None = None, after: int = 0, limit: int = 100) -> list[Task]:
    """One page of a project's tasks in id order after `after`, plus one more row to tell whether a next page exists. One query."""
    tasks = Task.objects.filter(project=project, pk__gt=after).order_by("pk")
    if state:
        tasks = tasks.filter(state=state)
    if gold is not None:
        tasks = tasks.filter(is_gold=gold)
    if external_id:
        tasks = tasks.filter(external_id=external_id)
    return list(tasks.only("id", "external_id", "data", "image", "is_gold", "gold", "state", "answer_count", "required_answers", "created_at")[: limit + 1])


def task_answers_for_client(*, task: Task) -> dict:
    """A task's answers as its client may see them (workers as pseudonyms) and its accepted label, if any. Two queries."""
    answers = [
        {
            "id": a.pk,
            "worker": worker_pseudonym(organization_id=task.project.organization_id, worker_id=a.worker_id),
            "payload": a.payload,
            "status": a.status,
            "submitted_at": a.submitted_at,
            "decided_at": a.decided_at,
            "active_seconds": a.active_seconds,
        }
        for a in Answer.objects.filter(task=task).order_by("submitted_at", "pk")
    ]
    label = AcceptedLabel.objects.filter(task=task).values("label", "value", "agreement", "method").first()
    if label is not None:
        label = {**label, "agreement": str(label["agreement"])}
    return {"task": task, "label": label, "answers": answers}


def project_list_with_progress(*, organization: ClientOrganization) -> list[dict]:
    """A client's projects with task counts and percent done: two queries whatever the number of projects."""
    projects = list(project_list_for_client(organization=organization)[:500])
    counts = {
        row["project"]: row
        for row in Task.objects.filter(project__in=[p.pk for p in projects], is_gold=False)
        .values("project")
        .annotate(tasks=Count("id"), accepted=Count("id", filter=Q(state=Task.State.ACCEPTED)))
    }
    rows = []
    for project in projects:
        row = counts.get(project.pk, {"tasks": 0, "accepted": 0})
        percent = round(100 * row["accepted"] / row["tasks"], 1) if row["tasks"] else 0.0
        rows.append({"project": project, "tasks": row["tasks"], "accepted": row["accepted"], "percent_done": percent})
    return rows
