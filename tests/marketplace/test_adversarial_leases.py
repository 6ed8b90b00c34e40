"""Lease hoarding, tried as a member would: many requests at once, or a forged second lease.

One live lease per member per project and slot is a partial unique index on Assignment
(worker, project, slot) WHERE state = 'leased' (slot 0 without prefetch, at most 5 slots:
tests/marketplace/test_hot_path.py); the claim service turns the database's refusal into
"here is the lease you already hold".
"""

import threading
from datetime import timedelta

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from marketplace.models import Assignment, Task
from marketplace.services import claiming
from tests import factories
from tests.conftest import requires_postgres


@pytest.mark.django_db
def test_adversarial_the_database_refuses_a_second_live_lease_in_a_project():
    project = factories.make_project(tasks=3)
    member = factories.make_member()
    first = claiming.work_next(worker=member, project=project).assignment
    other_task = Task.objects.filter(project=project).exclude(pk=first.task_id).first()
    # Bypassing the service (a bug elsewhere, a forged admin action) still cannot hoard.
    with pytest.raises(IntegrityError), transaction.atomic():
        Assignment.objects.create(
            task=other_task, project=project, worker=member, expires_at=timezone.now() + timedelta(minutes=5)
        )
    # Finished leases do not count: after a release the member may take another.
    claiming.assignment_release(worker=member, assignment_id=first.pk)
    second = claiming.work_next(worker=member, project=project).assignment
    assert second is not None and second.pk != first.pk


@pytest.mark.django_db
def test_adversarial_a_stale_lease_that_was_never_reclaimed_does_not_lock_the_member_out():
    project = factories.make_project(tasks=3)
    member = factories.make_member()
    first = claiming.work_next(worker=member, project=project).assignment
    Assignment.objects.filter(pk=first.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    claim = claiming.work_next(worker=member, project=project)
    assert claim.assignment is not None and claim.assignment.pk != first.pk
    assert Assignment.objects.get(pk=first.pk).state == Assignment.State.EXPIRED
    assert Assignment.objects.filter(worker=member, project=project, state="leased").count() == 1
    # The expired lease's slot went back to its task.
    assert Task.objects.get(pk=first.task_id).assigned_count == 0


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_adversarial_twelve_parallel_claims_by_one_member_yield_one_lease():
    project = factories.make_project(tasks=30, overlap=1, max_overlap=1)
    member = factories.make_member()
    barrier = threading.Barrier(12)
    results: list[int | None] = []
    errors: list[Exception] = []
    lock = threading.Lock()

    def claim():
        try:
            barrier.wait()
            assignment = claiming.work_next(worker=member, project=project).assignment
            with lock:
                results.append(assignment.pk if assignment else None)
        except Exception as exc:  # noqa: BLE001 - asserted below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=claim) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    leases = Assignment.objects.filter(worker=member, project=project, state="leased")
    assert leases.count() == 1
    # Every request was handed that one lease, and no task lost capacity to a rolled-back claim.
    assert set(results) == {leases.get().pk}
    assert sum(Task.objects.filter(project=project).values_list("assigned_count", flat=True)) == 1
