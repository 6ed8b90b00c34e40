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

On PostgreSQL a claim in one project is one statement (`CLAIM_SQL`): it finds
the member's live lease, share-locks the project row to read its status, picks
a gold check when one is due or else the first open task (SKIP LOCKED), counts
it, inserts the lease and the member's counters and returns the lease with its
task, all in one round trip and one snapshot. SQLite runs the same steps as ORM
queries in one IMMEDIATE transaction. Both are tested against the same
assertions.
"""

from __future__ import annotations

import contextlib
import functools
import math
from dataclasses import dataclass
from datetime import timedelta

from django.db import IntegrityError, connection, transaction
from django.db.models import Case, Exists, F, OuterRef, QuerySet, Value, When
from django.utils import timezone

from coop.error_codes import CoopErrorCode
from coop.errors import ApplicationError, Conflict, Forbidden, NotFound
from coop.models import User
from coop.rows import from_row, select_list
from marketplace.error_codes import ASSIGNMENT_STATE_CODES

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
        raise Forbidden("Only active members can take work.", code=CoopErrorCode.MEMBER_REQUIRED)


def _lock_skip(queryset):
    if connection.features.has_select_for_update_skip_locked:
        return queryset.select_for_update(skip_locked=True, of=("self",))
    return queryset


def _gold_due(project: Project, stats: WorkerProjectStats) -> bool:
    """Mix gold in deterministically: the (n+1)-th task is gold when gold so far < floor(ratio × (n+1))."""
    if project.gold_ratio <= 0:
        return False
    return stats.gold_assignments < math.floor(project.gold_ratio * (stats.assignments + 1))


def _lease(project: Project, task: Task, worker: User, *, is_gold: bool, slot: int = 0, queued_seconds: int = 0) -> Assignment:
    now = timezone.now()
    assignment = Assignment.objects.create(
        task=task,
        project=project,
        worker=worker,
        is_gold=is_gold,
        slot=slot,
        leased_at=now,
        expires_at=now + timedelta(seconds=project.lease_seconds + queued_seconds),
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


# One round trip on PostgreSQL. Data-modifying CTEs run exactly once, in one snapshot; `pick` locks the
# task it takes (SKIP LOCKED: concurrent claims never wait for each other), and the conditional UPDATE
# re-checks the overlap on the locked row. A second live lease of this member in this project and slot (a
# parallel request, or an expired lease nobody reclaimed yet) makes the INSERT raise IntegrityError, as the
# ORM path does. `any_slot`: a live lease in any slot is handed back instead of a new one (no prefetch).
CLAIM_SQL = """
WITH project AS (
    SELECT status FROM marketplace_project WHERE id = %(project)s FOR SHARE
), live AS (
    SELECT id FROM marketplace_assignment
    WHERE worker_id = %(worker)s AND project_id = %(project)s AND state = 'leased' AND expires_at > %(now)s
      AND (%(any_slot)s OR slot = %(slot)s)
    ORDER BY leased_at, id LIMIT 1
), go AS (
    SELECT 1 FROM project WHERE status = 'published' AND NOT EXISTS (SELECT 1 FROM live)
), counts AS (
    SELECT COALESCE(MAX(assignments), 0) AS n, COALESCE(MAX(gold_assignments), 0) AS g
    FROM marketplace_workerprojectstats WHERE worker_id = %(worker)s AND project_id = %(project)s
), gold AS (
    SELECT {task_columns} FROM marketplace_task t, counts
    WHERE %(gold_ratio)s > 0 AND EXISTS (SELECT 1 FROM go)
      AND counts.g < FLOOR(%(gold_ratio)s * (counts.n + 1))
      AND t.project_id = %(project)s AND t.is_gold
      AND NOT EXISTS (SELECT 1 FROM marketplace_assignment a WHERE a.task_id = t.id AND a.worker_id = %(worker)s)
    ORDER BY t.id LIMIT 1
), pick AS (
    SELECT t.id FROM marketplace_task t
    WHERE EXISTS (SELECT 1 FROM go) AND NOT EXISTS (SELECT 1 FROM gold)
      AND t.project_id = %(project)s AND t.state = 'open' AND NOT t.is_gold
      AND NOT EXISTS (SELECT 1 FROM marketplace_assignment a WHERE a.task_id = t.id AND a.worker_id = %(worker)s)
    ORDER BY t.id LIMIT 1
    FOR UPDATE OF t SKIP LOCKED
), taken AS (
    UPDATE marketplace_task t
    SET assigned_count = t.assigned_count + 1,
        state = CASE WHEN t.assigned_count + 1 >= t.required_answers THEN 'full' ELSE 'open' END
    FROM pick WHERE t.id = pick.id AND t.state = 'open' AND t.assigned_count < t.required_answers
    RETURNING {task_columns}
), chosen AS (
    SELECT *, TRUE AS leased_gold FROM gold UNION ALL SELECT *, FALSE FROM taken
), lease AS (
    INSERT INTO marketplace_assignment AS a
        (task_id, project_id, worker_id, state, is_gold, slot, leased_at, expires_at, last_heartbeat_at, active_seconds)
    SELECT id, %(project)s, %(worker)s, 'leased', leased_gold, %(slot)s, %(now)s, %(expires)s, %(now)s, 0 FROM chosen
    RETURNING {assignment_columns}
), counted AS (
    INSERT INTO marketplace_workerprojectstats AS s
        (worker_id, project_id, assignments, gold_assignments, gold_answered, gold_correct)
    SELECT %(worker)s, %(project)s, 1, CASE WHEN is_gold THEN 1 ELSE 0 END, 0, 0 FROM lease
    ON CONFLICT (worker_id, project_id) DO UPDATE
        SET assignments = s.assignments + 1, gold_assignments = s.gold_assignments + EXCLUDED.gold_assignments
    RETURNING 1
)
SELECT {lease_columns}, {chosen_columns}, (SELECT status FROM project), (SELECT id FROM live), (SELECT COUNT(*) FROM counted)
FROM (SELECT 1) AS one LEFT JOIN lease ON TRUE LEFT JOIN chosen ON TRUE
"""


@functools.cache
def _claim_sql() -> str:
    """CLAIM_SQL with the lease's and its task's columns named from the models (coop.rows.select_list): the new
    lease comes back with its task, as written, in the same round trip."""
    return CLAIM_SQL.format(
        task_columns=select_list(Task, "t"),
        assignment_columns=select_list(Assignment, "a"),
        lease_columns=select_list(Assignment, "lease"),
        chosen_columns=select_list(Task, "chosen"),
    )


def _claim_in_project(project: Project, worker: User, *, slot: int = 0, queued_seconds: int = 0) -> Assignment | None:
    """Claim one task of `project` for `worker` inside the caller's transaction (the ORM path, for SQLite)."""
    _require_live(project)
    stats, _ = WorkerProjectStats.objects.get_or_create(worker=worker, project=project)
    if _gold_due(project, stats):
        gold = Task.objects.filter(project=project, is_gold=True).exclude(_not_done_by(worker)).order_by("id").first()
        if gold is not None:
            return _lease(project, gold, worker, is_gold=True, slot=slot, queued_seconds=queued_seconds)

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
    candidate.assigned_count += 1  # the task as the update left it, as the PostgreSQL statement returns it
    if candidate.assigned_count >= candidate.required_answers:
        candidate.state = Task.State.FULL
    return _lease(project, candidate, worker, is_gold=False, slot=slot, queued_seconds=queued_seconds)


def _savepoint_if_nested():
    return transaction.atomic() if connection.in_atomic_block else contextlib.nullcontext()


def _claim_once(project: Project, worker: User, *, slot: int, any_slot: bool, queued_seconds: int) -> tuple[int | None, Assignment | None]:
    """(id of a live lease handed back, None) or (None, the new lease or None when no task is left).

    PostgreSQL: CLAIM_SQL, one statement (atomic by itself) that also returns the new lease with its task.
    SQLite: the live lease is looked up by the caller; the ORM steps run in one transaction.
    Raises IntegrityError when the member already holds a lease in that slot, _ProjectNotLive when stopped.
    """
    if connection.vendor != "postgresql":
        with transaction.atomic():
            return None, _claim_in_project(project, worker, slot=slot, queued_seconds=queued_seconds)
    now = timezone.now()
    params = {
        "project": project.pk,
        "worker": worker.pk,
        "now": now,
        "expires": now + timedelta(seconds=project.lease_seconds + queued_seconds),
        "gold_ratio": project.gold_ratio,
        "slot": slot,
        "any_slot": any_slot,
    }
    with _savepoint_if_nested(), connection.cursor() as cursor:
        cursor.execute(_claim_sql(), params)
        row = cursor.fetchone()
    (assignment, task), (status, live_id, _) = from_row(row, [Assignment, Task])  # no lease: both None
    if live_id is not None:
        return live_id, None
    if status != Project.Status.PUBLISHED:
        raise _ProjectNotLive(status or "deleted")
    if assignment is None:
        return None, None
    assignment.task, assignment.project = task, project  # the caller's project: no extra query to serialize the lease
    return None, assignment


class _LeaseRace(Exception):
    """Another request of the same worker won the lease (the database refused a second one)."""


def _try_claim(project: Project, worker: User, *, slot: int = 0, any_slot: bool = True, queued_seconds: int = 0):
    """_claim_once, reclaiming the member's own expired lease once if it blocks the slot; raises _LeaseRace
    when a parallel request of the member holds the slot, _ProjectNotLive when the project stopped."""
    for attempt in range(2):
        try:
            return _claim_once(project, worker, slot=slot, any_slot=any_slot, queued_seconds=queued_seconds)
        except IntegrityError:
            # Either the same worker's concurrent request (a double click, twelve at once) leased
            # first, or the worker still holds a lease that ran out but was not reclaimed yet.
            stale = Assignment.objects.filter(
                worker=worker, project=project, state=Assignment.State.LEASED, expires_at__lte=timezone.now()
            ).exists()
            if attempt == 0 and stale and leases_reclaim_expired(project_id=project.pk, worker=worker):
                continue
            raise _LeaseRace from None
    raise _LeaseRace


def _live_leases(worker: User, projects) -> QuerySet[Assignment]:
    return Assignment.objects.filter(
        worker=worker, state=Assignment.State.LEASED, expires_at__gt=timezone.now(), project__in=projects
    ).order_by("leased_at", "pk")


def _open_projects(worker: User, project: Project | None) -> tuple[list[Project], str]:
    """The projects to try, best paid first, or a reason there are none."""
    if project is None:
        projects = projects_open_to(worker)
        return projects, "" if projects else "no_open_projects"
    if project.status != Project.Status.PUBLISHED:
        return [], f"project_{project.status}"
    # The floor read with the project (selectors.project_for_work), or read now
    refusal = project_refusal(project, worker, floor=getattr(project, "pay_floor_now", None))
    return ([], refusal) if refusal else ([project], "")


def work_next(*, worker: User, project: Project | None = None) -> Claim:
    """Give the worker their live lease if they hold one, else lease them the next task.

    One short transaction per project tried (one statement on PostgreSQL). When a project looks empty, its
    expired leases are reclaimed and the claim retried (the periodic job does the rest). Returns a Claim
    with a reason when there is no work for this worker.
    """
    _require_worker(worker)
    projects, reason = _open_projects(worker, project)
    if not projects:
        return Claim(None, reason=reason)
    single = project is not None and connection.vendor == "postgresql"  # the statement hands back a live lease
    if not single:
        live = _live_leases(worker, projects).select_related("task", "project").first()
        if live is not None:
            return Claim(live)
    for candidate_project in projects:
        try:
            live_id, assignment = _try_claim(candidate_project, worker)
            if live_id is None and assignment is None and leases_reclaim_expired(project_id=candidate_project.pk, limit=50):
                # Lazy reclaim: only when the pool looks empty, so the common path stays short.
                live_id, assignment = _try_claim(candidate_project, worker)
        except _LeaseRace:
            break  # a concurrent request of this worker holds a lease now: hand out that one
        except _ProjectNotLive as stopped:
            if project is not None:
                return Claim(None, reason=f"project_{stopped.status}")
            continue  # paused or cancelled since the list was read: try the next project
        if live_id is not None:
            return Claim(Assignment.objects.select_related("task", "project").get(pk=live_id))
        if assignment is not None:
            return Claim(assignment)
    live = _live_leases(worker, projects).select_related("task", "project").first()
    return Claim(live) if live is not None else Claim(None, reason="no_tasks_available")


def work_next_many(*, worker: User, project: Project, count: int) -> tuple[list[Assignment], str]:
    """Prefetch: up to `count` (≤ MAX_PREFETCH) leases in one project, the member's live ones first, oldest first.

    Each new lease takes a free slot (the database allows one live lease per member, project and slot), so
    parallel prefetches of one member never hold more than MAX_PREFETCH leases, and each task still goes to a
    member at most once and never past its overlap. A lease queued behind others gets their estimated time
    on top of its own, so it does not run out while the member works through the ones before it.
    Returns (leases, reason when there are none).
    """
    if not 1 <= count <= Assignment.MAX_PREFETCH:
        raise ApplicationError(f"'count' must be 1 to {Assignment.MAX_PREFETCH}.", fields={"count": ["Out of range."]})
    if count == 1:
        claim = work_next(worker=worker, project=project)
        return ([claim.assignment] if claim.assignment else []), claim.reason
    _require_worker(worker)
    projects, reason = _open_projects(worker, project)
    if not projects:
        return [], reason
    held = list(
        Assignment.objects.filter(worker=worker, project=project, state=Assignment.State.LEASED)
        .select_related("task", "project")
        .order_by("leased_at", "pk")
    )
    now = timezone.now()
    if any(a.expires_at <= now for a in held):  # leases that ran out still hold their slots until reclaimed
        leases_reclaim_expired(project_id=project.pk, worker=worker)
        held = [a for a in held if a.expires_at > now]
    leases = held[:count]
    taken = {a.slot for a in held}
    reclaimed = raced = False
    for slot in [s for s in range(Assignment.MAX_PREFETCH) if s not in taken]:
        if len(leases) >= count:
            break
        try:
            live_id, assignment = _try_claim(
                project, worker, slot=slot, any_slot=False, queued_seconds=len(leases) * project.estimated_seconds
            )
            if live_id is None and assignment is None and not reclaimed:
                reclaimed = True
                if leases_reclaim_expired(project_id=project.pk, limit=50):
                    live_id, assignment = _try_claim(
                        project, worker, slot=slot, any_slot=False, queued_seconds=len(leases) * project.estimated_seconds
                    )
        except _LeaseRace:
            raced = True
            continue  # a parallel request of this member took the slot: try the next one
        except _ProjectNotLive as stopped:
            return leases, ("" if leases else f"project_{stopped.status}")
        if assignment is not None:
            leases.append(assignment)
        elif live_id is None:
            break  # no task left for this member
    if raced or not leases:  # parallel requests of this member leased too: everyone is handed what it now holds
        leases = list(_live_leases(worker, projects).select_related("task", "project")[:count])
    return leases, ("" if leases else "no_tasks_available")


def _locked_assignment(*, worker: User, assignment_id: int) -> Assignment:
    assignment = (
        Assignment.objects.select_for_update(of=("self",)).select_related("project", "task").filter(pk=assignment_id, worker=worker).first()
    )
    if assignment is None:
        raise NotFound("No such assignment.")
    return assignment


def active_time_credit(assignment: Assignment, active_seconds, *, now) -> None:
    """The one active-time rule (heartbeats and submits): add what the screen reports it was visible and in use,
    capped by the wall time since the last report (plus 5 s of slack) and by HEARTBEAT_MAX_CREDIT per report,
    so a client cannot claim more time than has passed. Refuses anything but a non-negative integer."""
    if not isinstance(active_seconds, int) or isinstance(active_seconds, bool) or active_seconds < 0:
        raise ApplicationError("'active_seconds' must be a non-negative integer.", fields={"active_seconds": ["Invalid."]})
    elapsed = (now - (assignment.last_heartbeat_at or assignment.leased_at)).total_seconds()
    assignment.active_seconds += int(min(active_seconds, elapsed + 5, HEARTBEAT_MAX_CREDIT))


@transaction.atomic
def assignment_heartbeat(*, worker: User, assignment_id: int, active_seconds: int = 0) -> Assignment:
    """Renew the lease and credit active time (the labeling page reports time it was visible and in use).

    Credit is capped by the wall time since the last heartbeat (plus slack), so a
    client cannot claim more time than has passed.
    """
    assignment = _locked_assignment(worker=worker, assignment_id=assignment_id)
    if assignment.state != Assignment.State.LEASED:
        raise Conflict(f"This assignment is {assignment.state}.", code=ASSIGNMENT_STATE_CODES[assignment.state])
    now = timezone.now()
    active_time_credit(assignment, active_seconds, now=now)
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
        raise Conflict(f"This assignment is already {assignment.state}.", code=ASSIGNMENT_STATE_CODES[assignment.state])
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
