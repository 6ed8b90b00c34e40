"""Real threads on PostgreSQL: many workers claiming and submitting at once."""

import threading
import time

import pytest
from django.db import connection
from django.db.models import Count

from marketplace.models import Answer, Assignment, Task
from marketplace.services import claiming, submission
from tests import factories
from tests.conftest import requires_postgres

pytestmark = [requires_postgres, pytest.mark.django_db(transaction=True)]


def test_many_workers_claim_and_submit_concurrently():
    organization = factories.make_organization("Load Co")
    project = factories.make_project(organization, tasks=40, overlap=3, max_overlap=3, agreement_target="0.3")
    workers = [factories.make_member() for _ in range(12)]
    barrier = threading.Barrier(len(workers))
    errors: list[Exception] = []
    submitted: list[int] = []
    lock = threading.Lock()

    def work(worker, index):
        try:
            barrier.wait()
            n = 0
            while True:
                claim = claiming.work_next(worker=worker, project=project)
                if claim.assignment is None:
                    # A lease held by someone else may still be released back to the pool: wait for it.
                    if Assignment.objects.filter(project=project, state="leased").exists():
                        time.sleep(0.02)
                        continue
                    break
                # Every third worker sometimes skips: releases must not lose capacity.
                if index % 3 == 0 and n % 4 == 3:
                    claiming.assignment_release(worker=worker, assignment_id=claim.assignment.pk)
                    n += 1
                    continue
                key = f"{worker.pk}-{claim.assignment.pk}"
                for _ in range(2):  # a retried submit must not create a second answer
                    answer, _ = submission.assignment_submit(
                        worker=worker, assignment_id=claim.assignment.pk, payload={"text": f"v{claim.assignment.task_id % 2}"}, idempotency_key=key
                    )
                with lock:
                    submitted.append(answer.pk)
                n += 1
        except Exception as exc:  # noqa: BLE001 - asserted below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(w, i)) for i, w in enumerate(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert errors == []

    # No lost or duplicate answers: every successful submit is exactly one row.
    assert len(submitted) == len(set(submitted)) == Answer.objects.count()
    # Zero double leases and the overlap is never exceeded.
    assert not Assignment.objects.values("task", "worker").annotate(n=Count("id")).filter(n__gt=1).exists()
    for task in Task.objects.filter(project=project):
        answers = task.answers.count()
        assert answers <= task.required_answers == 3
        assert task.assigned_count == answers
    # All the work got done: every task has its three answers and a label.
    assert Answer.objects.count() == 40 * 3
    assert set(Task.objects.filter(project=project).values_list("state", flat=True)) == {"accepted"}
    assert Assignment.objects.filter(state="leased").count() == 0
    # Every accepted answer was paid exactly once, from escrow, and the books balance.
    from marketplace.ledger.models import LedgerTransaction
    from marketplace.ledger.selectors import trial_balance

    earnings = LedgerTransaction.objects.filter(kind="earning", project=project)
    assert earnings.count() == earnings.values("answer").distinct().count() == 40 * 3
    assert set(trial_balance().values()) == {0}
