"""Handing out work: next task, heartbeats, release, and reclaiming expired leases.

Correctness under concurrency rests on three things:

1. The claim takes the first open task of a project with
   `SELECT ... FOR UPDATE SKIP LOCKED` (PostgreSQL), so concurrent workers
   never wait on each other and never take the same row at once. On SQLite
   every write transaction is IMMEDIATE, which serializes claims instead.
2. The task's counters are updated with a conditional UPDATE
   (`assigned_count < required_answers`), and the database refuses any row
   with assigned_count > required_answers (a check constraint).
3. (task, worker) is unique on Assignment: a worker never gets a task twice;
   and (worker, project) is unique among live leases (a partial unique index),
   so twelve parallel claims by one member, on any number of server
   processes, end with one lease: the losers' transactions roll back on the
   IntegrityError and they are handed the winner's lease.

The query is one index probe on the partial index `task_claimable`
(project, id) WHERE state = 'open' AND NOT is_gold, with an anti-join on the
unique (task, worker) index; no Python loop over candidate tasks.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import timedelta

from django.db import IntegrityError, connection, transaction
from django.db.models import Case, Exists, F, OuterRef, Value, When
from django.utils import timezone

from coop.errors import ApplicationError, Conflict, Forbidden, NotFound
from coop.models import User

from ..models import Assignment, Project, Task, WorkerProjectStats
from . import lifecycle
from .eligibility import project_refusal, projects_open_to

HEARTBEAT_MAX_CREDIT = 120  # seconds of active time one heartbeat may add
RECLAIM_BATCH = 500


@dataclass(frozen=True)
class Claim:
    assignment: Assignment | None
    reason: str = ""  # why there is no work, when assignment is None


def _require_worker(worker: User) -> None:
    if not worker.is_member:
        raise Forbidden("Only active members can take work.", code="member_required")


def _lock_skip(queryset):
    if connection.features.has_select_for_update_skip_locked:
        return queryset.select_for_update(skip_locked=True, of=("self",))
    return queryset


def _gold_due(project: Project, stats: WorkerProjectStats) -> bool:
    """Mix gold in deterministically: the (n+1)-th task is gold when gold so far < floor(ratio × (n+1))."""
    if project.gold_ratio <= 0:
        return False
    return stats.gold_assignments < math.floor(project.gold_ratio * (stats.assignments + 1))


def _lease(project: Project, task: Task, worker: User, *, is_gold: bool) -> Assignment:
    now = timezone.now()
    assignment = Assignment.objects.create(
        task=task,
        project=project,
        worker=worker,
        is_gold=is_gold,
        leased_at=now,
        expires_at=now + timedelta(seconds=project.lease_seconds),
        last_heartbeat_at=now,
    )
    WorkerProjectStats.objects.filter(worker=worker, project=project).update(
        assignments=F("assignments") + 1, gold_assignments=F("gold_assignments") + (1 if is_gold else 0)
    )
    return assignment


def _not_done_by(worker: User):
    return Exists(Assignment.objects.filter(task=OuterRef("pk"), worker=worker))


class _ProjectNotLive(Exception):
    def __init__(self, status: str):
        super().__init__(status)
        self.status = status


def _require_live(project: Project) -> None:
    """Read the project's status from the database, not the caller's copy, holding a share lock on PostgreSQL:
    claims do not block each other, but a pause or cancel (FOR UPDATE on the project) waits for claims in
    flight, and every claim after it sees the new status. No lease is ever handed out in a stopped project."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT status FROM {Project._meta.db_table} WHERE id = %s FOR SHARE", [project.pk])
            row = cursor.fetchone()
        status = row[0] if row else "deleted"
    else:  # SQLite serializes write transactions
        status = Project.objects.filter(pk=project.pk).values_list("status", flat=True).first() or "deleted"
    if status != Project.Status.PUBLISHED:
        raise _ProjectNotLive(status)


def _claim_in_project(project: Project, worker: User) -> Assignment | None:
    """Claim one task of `project` for `worker` inside the caller's transaction."""
    _require_live(project)
    stats, _ = WorkerProjectStats.objects.get_or_create(worker=worker, project=project)
    if _gold_due(project, stats):
        gold = Task.objects.filter(project=project, is_gold=True).exclude(_not_done_by(worker)).order_by("id").first()
        if gold is not None:
            return _lease(project, gold, worker, is_gold=True)

    candidate = _lock_skip(
        Task.objects.filter(project=project, state=Task.State.OPEN, is_gold=False).exclude(_not_done_by(worker)).order_by("id")
    ).first()
    if candidate is None:
        return None
    updated = Task.objects.filter(
        pk=candidate.pk, state=Task.State.OPEN, assigned_count__lt=F("required_answers")
    ).update(
        assigned_count=F("assigned_count") + 1,
        state=Case(
            When(assigned_count__gte=F("required_answers") - 1, then=Value(Task.State.FULL)),
            default=Value(Task.State.OPEN),
        ),
    )
    if not updated:  # only possible without row locks; the caller may simply ask again
        return None
    return _lease(project, candidate, worker, is_gold=False)


def work_next(*, worker: User, project: Project | None = None) -> Claim:
    """Give the worker their live lease if they hold one, else lease them the next task.

    One short transaction per project tried. When a project looks empty, its expired
    leases are reclaimed and the claim retried (the periodic job does the rest). Returns a Claim
    with a reason when there is no work for this worker.
    """
    _require_worker(worker)
    if project is not None:
        if project.status != Project.Status.PUBLISHED:
            return Claim(None, reason=f"project_{project.status}")
        refusal = project_refusal(project, worker)
        if refusal:
            return Claim(None, reason=refusal)
        projects = [project]
    else:
        projects = projects_open_to(worker)
        if not projects:
            return Claim(None, reason="no_open_projects")

    now = timezone.now()
    live = (
        Assignment.objects.filter(worker=worker, state=Assignment.State.LEASED, expires_at__gt=now, project__in=projects)
        .select_related("task", "project")
        .order_by("leased_at")
        .first()
    )
    if live is not None:
        return Claim(live)

    for candidate_project in projects:
        try:
            assignment = _try_claim(candidate_project, worker)
            if assignment is None and leases_reclaim_expired(project_id=candidate_project.pk, limit=50):
                # Lazy reclaim: only when the pool looks empty, so the common path stays short.
                assignment = _try_claim(candidate_project, worker)
        except _LeaseRace:
            break  # a concurrent request of this worker holds a lease now: hand out that one
        except _ProjectNotLive as stopped:
            if project is not None:
                return Claim(None, reason=f"project_{stopped.status}")
            continue  # paused or cancelled since the list was read: try the next project
        if assignment is not None:
            return Claim(assignment)
    live = Assignment.objects.filter(worker=worker, state=Assignment.State.LEASED, expires_at__gt=now, project__in=projects).first()
    if live is not None:
        return Claim(Assignment.objects.select_related("task", "project").get(pk=live.pk))
    return Claim(None, reason="no_tasks_available")


class _LeaseRace(Exception):
    """Another request of the same worker won the lease (the database refused a second one)."""


def _try_claim(project: Project, worker: User) -> Assignment | None:
    for attempt in range(2):
        try:
            with transaction.atomic():
                assignment = _claim_in_project(project, worker)
        except IntegrityError:
            # Either the same worker's concurrent request (a double click, twelve at once) leased
            # first, or the worker still holds a lease that ran out but was not reclaimed yet.
            stale = Assignment.objects.filter(
                worker=worker, project=project, state=Assignment.State.LEASED, expires_at__lte=timezone.now()
            ).exists()
            if attempt == 0 and stale and leases_reclaim_expired(project_id=project.pk, worker=worker):
                continue
            raise _LeaseRace from None
        if assignment is not None:
            assignment.project = project  # the caller's objects: no extra query to serialize the lease
        return assignment
    raise _LeaseRace


def _locked_assignment(*, worker: User, assignment_id: int) -> Assignment:
    assignment = (
        Assignment.objects.select_for_update(of=("self",)).select_related("project", "task").filter(pk=assignment_id, worker=worker).first()
    )
    if assignment is None:
        raise NotFound("No such assignment.")
    return assignment


@transaction.atomic
def assignment_heartbeat(*, worker: User, assignment_id: int, active_seconds: int = 0) -> Assignment:
    """Renew the lease and credit active time (the labeling page reports time it was visible and in use).

    Credit is capped by the wall time since the last heartbeat (plus slack), so a
    client cannot claim more time than has passed.
    """
    assignment = _locked_assignment(worker=worker, assignment_id=assignment_id)
    if assignment.state != Assignment.State.LEASED:
        raise Conflict(f"This assignment is {assignment.state}.", code=f"assignment_{assignment.state}")
    if not isinstance(active_seconds, int) or active_seconds < 0:
        raise ApplicationError("'active_seconds' must be a non-negative integer.", fields={"active_seconds": ["Invalid."]})
    now = timezone.now()
    elapsed = (now - (assignment.last_heartbeat_at or assignment.leased_at)).total_seconds()
    assignment.active_seconds += int(min(active_seconds, elapsed + 5, HEARTBEAT_MAX_CREDIT))
    assignment.last_heartbeat_at = now
    if lifecycle.lease_may_extend(assignment.project):
        assignment.expires_at = now + timedelta(seconds=assignment.project.lease_seconds)
    assignment.save(update_fields=["active_seconds", "last_heartbeat_at", "expires_at"])
    return assignment


def _return_capacity(task_ids_with_counts: dict[int, int]) -> None:
    """Give leases back to their tasks: fewer assigned, and open again if they were full."""
    for task_id, count in task_ids_with_counts.items():
        Task.objects.filter(pk=task_id, is_gold=False).update(
            assigned_count=F("assigned_count") - count,
            state=Case(When(state=Task.State.FULL, then=Value(Task.State.OPEN)), default=F("state")),
        )


@transaction.atomic
def assignment_release(*, worker: User, assignment_id: int) -> Assignment:
    """Give a task back (skip). No penalty: it only returns the task to the pool."""
    assignment = _locked_assignment(worker=worker, assignment_id=assignment_id)
    if assignment.state != Assignment.State.LEASED:
        raise Conflict(f"This assignment is already {assignment.state}.", code=f"assignment_{assignment.state}")
    assignment.state = Assignment.State.RELEASED
    assignment.ended_at = timezone.now()
    assignment.save(update_fields=["state", "ended_at"])
    if not assignment.is_gold:
        Task.objects.select_for_update().filter(pk=assignment.task_id).first()
        _return_capacity({assignment.task_id: 1})
    return assignment


def leases_reclaim_expired(*, project_id: int | None = None, worker: User | None = None, limit: int = RECLAIM_BATCH) -> int:
    """Expire leases past their time and return their tasks to the pool. Idempotent; returns how many."""
    now = timezone.now()
    with transaction.atomic():
        queryset = Assignment.objects.filter(state=Assignment.State.LEASED, expires_at__lte=now)
        if project_id is not None:
            queryset = queryset.filter(project_id=project_id)
        if worker is not None:
            queryset = queryset.filter(worker=worker)
        expired = list(_lock_skip(queryset.order_by("pk")).values_list("pk", "task_id", "is_gold")[:limit])
        if not expired:
            return 0
        Assignment.objects.filter(pk__in=[pk for pk, _, _ in expired]).update(state=Assignment.State.EXPIRED, ended_at=now)
        counts: dict[int, int] = {}
        for _, task_id, is_gold in expired:
            if not is_gold:
                counts[task_id] = counts.get(task_id, 0) + 1
        list(Task.objects.select_for_update().filter(pk__in=list(counts)).order_by("pk").values_list("pk", flat=True))
        _return_capacity(counts)
    return len(expired)
