"""Claiming, leases, submission, consensus and dynamic overlap, through the worker API and services."""

from datetime import timedelta

import pytest
from django.utils import timezone

from marketplace.models import AcceptedLabel, Answer, Assignment, Task, WorkerProjectStats
from marketplace.services import claiming, submission
from tests import factories


def _next(api, project=None):
    return api.post("/api/v1/work/next/", {"project": project.pk} if project else {}, format="json")


def _submit(api, assignment_id, answer, key="k1", **extra):
    return api.post(
        f"/api/v1/work/assignments/{assignment_id}/submit/", {"answer": answer, **extra}, format="json", HTTP_IDEMPOTENCY_KEY=key
    )


def _client_for(user):
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.mark.django_db
class TestNextTask:
    def test_next_returns_a_lease_with_task_and_instructions(self, member_api, organization):
        project = factories.make_project(organization, tasks=2, instructions="Type the <script>alert(1)</script> **text**")
        response = _next(member_api, project)
        assert response.status_code == 200
        body = response.json()
        assert body["task"]["type"] == "ocr" and body["task"]["data"]["image_url"].endswith("/image/")
        assert "<script>" not in body["task"]["instructions_html"] and "<strong>text</strong>" in body["task"]["instructions_html"]
        assert body["assignment"]["expires_at"] > body["assignment"]["leased_at"]
        image = member_api.get(body["task"]["data"]["image_url"])
        assert image.status_code == 200 and image["Content-Type"] == "image/png"
        # Asking again returns the same live lease.
        assert _next(member_api, project).json()["assignment"]["id"] == body["assignment"]["id"]

    def test_no_work_is_204_with_reason(self, member_api, organization):
        project = factories.make_project(organization, tasks=1)
        assert _next(member_api).status_code == 200  # across projects
        lease = Assignment.objects.get()
        claiming.assignment_release(worker=lease.worker, assignment_id=lease.pk)
        response = _next(member_api, project)
        assert response.status_code == 204 and response["X-Coop-Reason"] == "no_tasks_available"
        draft = factories.make_project(organization, tasks=1, publish=False)
        assert _next(member_api, draft).status_code == 404  # a client's draft answers as no project at all (issue 18)
        assert _next(member_api, type("P", (), {"pk": 999999})).status_code == 404

    def test_applicants_and_clients_cannot_take_work(self, api_client, applicant, client_user):
        for user in (applicant, client_user):
            api_client.force_authenticate(user)
            assert _next(api_client).status_code == 403

    def test_worker_never_gets_the_same_task_twice_and_overlap_holds(self, organization):
        project = factories.make_project(organization, tasks=1, overlap=2, max_overlap=2)
        a, b, c = (factories.make_member() for _ in range(3))
        first = claiming.work_next(worker=a, project=project).assignment
        claiming.assignment_release(worker=a, assignment_id=first.pk)
        assert claiming.work_next(worker=a, project=project).reason == "no_tasks_available"
        assert claiming.work_next(worker=b, project=project).assignment is not None
        assert claiming.work_next(worker=c, project=project).assignment is not None
        task = Task.objects.get()
        assert (task.assigned_count, task.state) == (2, "full")
        assert claiming.work_next(worker=factories.make_member(), project=project).reason == "no_tasks_available"

    def test_expired_leases_are_reclaimed_lazily_and_by_the_job(self, organization):
        project = factories.make_project(organization, tasks=1)
        holder, other = factories.make_member(), factories.make_member()
        lease = claiming.work_next(worker=holder, project=project).assignment
        Assignment.objects.filter(pk=lease.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
        # Lazy: the next claim reclaims it first.
        assert claiming.work_next(worker=other, project=project).assignment is not None
        assert Assignment.objects.get(pk=lease.pk).state == "expired"
        # The periodic job does the same for leases nobody asks about.
        third = factories.make_project(organization, tasks=1)
        stale = claiming.work_next(worker=holder, project=third).assignment
        Assignment.objects.filter(pk=stale.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
        assert claiming.leases_reclaim_expired() == 1
        task = Task.objects.get(pk=stale.task_id)
        assert (task.assigned_count, task.state) == (0, "open")

    def test_heartbeat_renews_and_credits_bounded_time(self, member, organization):
        project = factories.make_project(organization, tasks=1, estimated_seconds=60, pay_per_task="0.40")
        lease = claiming.work_next(worker=member, project=project).assignment
        Assignment.objects.filter(pk=lease.pk).update(last_heartbeat_at=timezone.now() - timedelta(seconds=20))
        renewed = claiming.assignment_heartbeat(worker=member, assignment_id=lease.pk, active_seconds=1000)
        assert 20 <= renewed.active_seconds <= 26  # capped by wall time since the last heartbeat
        assert renewed.expires_at > lease.expires_at

    def test_gold_is_mixed_in_at_the_ratio_and_accuracy_tracked(self, member, organization):
        project = factories.make_project(organization, tasks=30, gold_every=3, gold_ratio="0.25")
        api = _client_for(member)
        gold_seen = 0
        for i in range(12):
            body = _next(api, project).json()
            task = Task.objects.get(pk=body["task"]["id"])
            gold_seen += task.is_gold
            answer = task.gold if task.is_gold and i % 2 == 0 else {"text": "wrong"}
            assert _submit(api, body["assignment"]["id"], answer, key=f"g{i}").status_code == 201
        assert gold_seen == 3  # floor(0.25 × n) gold tasks after n claims
        stats = WorkerProjectStats.objects.get(worker=member, project=project)
        assert (stats.assignments, stats.gold_assignments, stats.gold_answered) == (12, 3, 3)
        assert stats.gold_accuracy is not None


@pytest.mark.django_db
class TestSubmitAndConsensus:
    def test_submit_is_idempotent(self, member_api, member, organization):
        project = factories.make_project(organization, tasks=1)
        lease = _next(member_api, project).json()["assignment"]["id"]
        first = _submit(member_api, lease, {"text": "ab12"}, key="same")
        again = _submit(member_api, lease, {"text": "ab12"}, key="same")
        assert first.status_code == 201 and again.status_code == 200
        assert again["Idempotent-Replayed"] == "true" and again.json() == first.json()
        assert Answer.objects.count() == 1
        other_key = _submit(member_api, lease, {"text": "ab12"}, key="different")
        assert other_key.status_code == 409 and other_key.json()["error"]["code"] == "already_submitted"

    def test_submit_requires_key_and_valid_answer_and_own_lease(self, member_api, organization):
        project = factories.make_project(organization, tasks=1, task_type="classification")
        lease = _next(member_api, project).json()["assignment"]["id"]
        no_key = member_api.post(f"/api/v1/work/assignments/{lease}/submit/", {"answer": {"choice": "positive"}}, format="json")
        assert no_key.json()["error"]["code"] == "idempotency_key_required"
        bad = _submit(member_api, lease, {"choice": "maybe"})
        assert bad.status_code == 400 and "choice" in bad.json()["error"]["fields"]
        intruder = _client_for(factories.make_member())
        assert _submit(intruder, lease, {"choice": "positive"}).status_code == 404
        assert Answer.objects.count() == 0 and Assignment.objects.get(pk=lease).state == "leased"

    def test_consensus_accepts_with_provenance(self, organization):
        project = factories.make_project(organization, tasks=1, overlap=3, max_overlap=3)
        workers = [factories.make_member() for _ in range(3)]
        for worker, text in zip(workers, ["AB 12", "ab12", " ab  12 "]):
            lease = claiming.work_next(worker=worker, project=project).assignment
            submission.assignment_submit(worker=worker, assignment_id=lease.pk, payload={"text": text}, idempotency_key="k")
        label = AcceptedLabel.objects.get()
        assert (label.value, label.method, str(label.agreement)) == ("ab 12", "consensus", "0.666")
        assert label.label == {"text": " ab  12 ".strip()} or label.label["text"] in ("AB 12", "ab 12")
        assert label.answers.count() == 2
        assert set(Answer.objects.values_list("status", flat=True)) == {"accepted"}
        assert Task.objects.get().state == "accepted"

    def test_dynamic_overlap_then_review(self, organization):
        project = factories.make_project(organization, tasks=1, overlap=2, max_overlap=3, agreement_target="0.9")
        texts = ["abc", "abd", "abe"]
        for text in texts:
            worker = factories.make_member()
            lease = claiming.work_next(worker=worker, project=project).assignment
            submission.assignment_submit(worker=worker, assignment_id=lease.pk, payload={"text": text}, idempotency_key="k")
            task = Task.objects.get()
            if text == "abd":
                assert (task.state, task.required_answers) == ("open", 3)  # asked for one more answer
        assert Task.objects.get().state == "review"
        assert not AcceptedLabel.objects.exists()

    def test_a_worker_never_sees_other_answers_before_submitting(self, organization):
        project = factories.make_project(organization, tasks=1, overlap=2, max_overlap=2)
        first = factories.make_member()
        lease = claiming.work_next(worker=first, project=project).assignment
        submission.assignment_submit(worker=first, assignment_id=lease.pk, payload={"text": "secret"}, idempotency_key="k")
        body = _next(_client_for(factories.make_member()), project).json()
        assert "secret" not in str(body)


@pytest.mark.django_db
def test_late_submit_on_unreclaimed_lease_counts_but_reclaimed_is_refused(member, organization):
    project = factories.make_project(organization, tasks=2)
    lease = claiming.work_next(worker=member, project=project).assignment
    Assignment.objects.filter(pk=lease.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    answer, created = submission.assignment_submit(worker=member, assignment_id=lease.pk, payload={"text": "x"}, idempotency_key="a")
    assert created and answer.status == "accepted"
    lease2 = claiming.work_next(worker=member, project=project).assignment
    Assignment.objects.filter(pk=lease2.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    claiming.leases_reclaim_expired()
    from coop.errors import Conflict

    with pytest.raises(Conflict):
        submission.assignment_submit(worker=member, assignment_id=lease2.pk, payload={"text": "x"}, idempotency_key="b")


def test_periodic_reclaim_job_runs_through_a_worker(dramatiq_worker):
    from coop.scheduler import periodic_jobs
    from marketplace.tasks import reclaim_expired_leases
    from tests.conftest import join_queues

    assert "reclaim_expired_leases" in {job.actor.actor_name for job in periodic_jobs()}
    project = factories.make_project(factories.make_organization("Reclaim Co"), tasks=1)
    worker = factories.make_member()
    lease = claiming.work_next(worker=worker, project=project).assignment
    Assignment.objects.filter(pk=lease.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    reclaim_expired_leases.send()
    join_queues()
    assert Assignment.objects.get(pk=lease.pk).state == "expired"
    assert Task.objects.get(pk=lease.task_id).state == "open"
