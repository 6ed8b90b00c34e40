"""The completion check queued by accepted labels: one per burst, never one lost.

Each accepted label asks for `project_check_completion` (the project's pay review, then completion and the books'
closing once the last label is in). While one is queued and not started, further acceptances join it; the job
removes the mark before it reads, so whatever the order of events the check that runs sees every acceptance that
joined it.
"""

import dramatiq
import pytest

from marketplace.models import Project
from marketplace.services import claiming, submission
from marketplace.tasks import project_check_completion, review_measured_pay
from tests import factories
from tests.concurrency import run_threads
from tests.conftest import join_queues, requires_postgres

ACTOR = "project_check_completion"


@pytest.fixture
def sent(monkeypatch):
    """The checks queued, in order; none runs unless the test runs it."""
    calls = []
    actor = dramatiq.get_broker().get_actor(ACTOR)
    monkeypatch.setattr(actor, "send", lambda *args: calls.append(args))
    return calls


def _accept(project, worker, django_capture_on_commit_callbacks, key):
    """One task answered and accepted (overlap 1), its commit hooks run as a commit would run them."""
    with django_capture_on_commit_callbacks(execute=True):
        lease = claiming.work_next(worker=worker, project=project).assignment
        submission.assignment_submit(worker=worker, assignment_id=lease.pk, payload={"text": key}, idempotency_key=key)


def _status(project):
    return Project.objects.get(pk=project.pk).status


@pytest.mark.django_db
def test_a_burst_of_acceptances_queues_one_check_and_the_check_sees_them_all(sent, django_capture_on_commit_callbacks):
    project = factories.make_project(tasks=4)
    worker = factories.make_member()
    _accept(project, worker, django_capture_on_commit_callbacks, "a")
    _accept(project, worker, django_capture_on_commit_callbacks, "b")
    assert sent == [(project.pk,)]  # the second joined the queued check

    project_check_completion(project.pk)  # the check runs: from its start, acceptances queue another
    assert _status(project) == "published"
    _accept(project, worker, django_capture_on_commit_callbacks, "c")
    # The last label arrives while that check is still queued: it joins it and is not lost.
    _accept(project, worker, django_capture_on_commit_callbacks, "d")
    assert sent == [(project.pk,), (project.pk,)]
    project_check_completion(project.pk)
    assert _status(project) == "closed"  # completed, then its books closed


@pytest.mark.django_db
def test_each_project_has_its_own_check(sent, django_capture_on_commit_callbacks):
    organization = factories.make_organization()
    first, second = factories.make_project(organization, tasks=2), factories.make_project(organization, tasks=2)
    worker = factories.make_member()
    for project, key in ((first, "a"), (second, "b"), (first, "c")):
        _accept(project, worker, django_capture_on_commit_callbacks, key)
    assert sent == [(first.pk,), (second.pk,)]


@pytest.mark.django_db
def test_a_check_that_could_not_be_queued_does_not_hold_back_the_next(monkeypatch, django_capture_on_commit_callbacks):
    project = factories.make_project(tasks=2)
    worker = factories.make_member()
    actor = dramatiq.get_broker().get_actor(ACTOR)

    def broker_down(*args):
        raise ConnectionError("broker unreachable")

    monkeypatch.setattr(actor, "send", broker_down)
    with pytest.raises(ConnectionError):
        _accept(project, worker, django_capture_on_commit_callbacks, "a")
    calls = []
    monkeypatch.setattr(actor, "send", lambda *args: calls.append(args))
    _accept(project, worker, django_capture_on_commit_callbacks, "b")
    assert calls == [(project.pk,)]


@pytest.mark.django_db
def test_the_periodic_review_completes_a_project_whose_last_check_was_lost(sent, django_capture_on_commit_callbacks):
    project = factories.make_project(tasks=1)
    _accept(project, factories.make_member(), django_capture_on_commit_callbacks, "a")
    assert sent == [(project.pk,)]  # queued, then lost (the test never runs it)
    assert _status(project) == "published"
    review_measured_pay()
    assert _status(project) == "closed"


@requires_postgres
def test_members_finishing_a_project_at_once_complete_it_with_a_real_worker(dramatiq_worker):
    project = factories.make_project(tasks=12)

    def work(worker):
        while (lease := claiming.work_next(worker=worker, project=project).assignment) is not None:
            submission.assignment_submit(worker=worker, assignment_id=lease.pk, payload={"text": "x"}, idempotency_key=str(lease.pk))

    _, errors = run_threads([lambda worker=factories.make_member(): work(worker) for _ in range(4)])
    join_queues(timeout_ms=60_000)
    assert errors == []
    assert _status(project) == "closed"
