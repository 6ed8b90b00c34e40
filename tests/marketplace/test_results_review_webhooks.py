import csv
import hashlib
import hmac
import io
import json
from datetime import timedelta
from http.server import BaseHTTPRequestHandler

import pytest
from django.utils import timezone

from coop.errors import ApplicationError, Conflict, Forbidden
from marketplace.models import AcceptedLabel, Answer, Project, Task, WebhookDelivery
from marketplace.pseudonyms import worker_pseudonym
from marketplace.services import claiming, review, submission
from marketplace.services.review import answers_auto_accept_due
from tests import factories
from tests.conftest import join_queues
from tests.http_receiver import serving

PURPOSE = {"purpose": "model_training"}


def _work(project, worker, payload, key="k"):
    lease = claiming.work_next(worker=worker, project=project).assignment
    return submission.assignment_submit(worker=worker, assignment_id=lease.pk, payload=payload, idempotency_key=key)[0]


@pytest.mark.django_db
class TestResults:
    def test_results_stream_jsonl_and_csv_with_pseudonymous_annotators(self, org_api, organization, member):
        project = factories.make_project(organization, tasks=3)
        for i in range(3):
            _work(project, member, {"text": f"x{i}"}, key=f"k{i}")
        lines = b"".join(org_api.get(f"/api/v1/projects/{project.pk}/results/", PURPOSE).streaming_content).decode().splitlines()
        rows = [json.loads(line) for line in lines]
        assert [r["external_id"] for r in rows] == ["img-0", "img-1", "img-2"]
        assert rows[0]["label"] == {"text": "x0"} and rows[0]["agreement"] == "1.000" and rows[0]["method"] == "consensus"
        pseudonym = worker_pseudonym(organization_id=organization.pk, worker_id=member.pk)
        assert rows[0]["annotators"] == [pseudonym] and member.email not in str(rows)

        response = org_api.get(f"/api/v1/projects/{project.pk}/results/", {**PURPOSE, "format": "csv"})
        table = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
        assert [r["external_id"] for r in table] == ["img-0", "img-1", "img-2"]
        assert json.loads(table[1]["label"]) == {"text": "x1"}

    def test_since_filter_and_bad_parameters(self, org_api, organization, member):
        project = factories.make_project(organization, tasks=2)
        _work(project, member, {"text": "a"}, key="1")
        cutoff = timezone.now()
        AcceptedLabel.objects.update(accepted_at=cutoff - timedelta(seconds=5))
        _work(project, member, {"text": "b"}, key="2")
        body = b"".join(org_api.get(f"/api/v1/projects/{project.pk}/results/", {**PURPOSE, "since": cutoff.isoformat()}).streaming_content)
        assert [json.loads(line)["label"]["text"] for line in body.decode().splitlines()] == ["b"]
        assert org_api.get(f"/api/v1/projects/{project.pk}/results/", {**PURPOSE, "since": "yesterday"}).status_code == 400
        assert org_api.get(f"/api/v1/projects/{project.pk}/results/", {**PURPOSE, "format": "xml"}).status_code == 400

    def test_export_query_count_is_constant(self, org_api, organization, member, django_assert_max_num_queries):
        project = factories.make_project(organization, tasks=6)
        for i in range(6):
            _work(project, member, {"text": str(i)}, key=str(i))
        # 18: the export is logged before the first row and finished with the rows sent, in the governance
        # log, whose hash chain reads the previous entry's hash.
        with django_assert_max_num_queries(18):
            b"".join(org_api.get(f"/api/v1/projects/{project.pk}/results/", PURPOSE).streaming_content)


@pytest.mark.django_db
class TestReview:
    def _review_task(self, organization):
        project = factories.make_project(organization, tasks=1, overlap=2, max_overlap=2, agreement_target="0.9")
        workers = [factories.make_member(), factories.make_member()]
        answers = [_work(project, w, {"text": t}) for w, t in zip(workers, ["cat", "cab"])]
        assert Task.objects.get().state == "review"
        return project, answers

    def test_steward_resolves_review_and_rejects_with_feedback(self, organization, steward):
        project, (right, wrong) = self._review_task(organization)
        label = review.task_review_accept(reviewer=steward, task=right.task, answer=right)
        assert (label.method, label.value, str(label.agreement)) == ("review", "cat", "0.500")
        with pytest.raises(ApplicationError):
            review.answer_review(reviewer=steward, answer=wrong, accept=False, reason="incorrect", feedback="")
        review.answer_review(reviewer=steward, answer=wrong, accept=False, reason="incorrect", feedback="The third letter is a t.")
        wrong.refresh_from_db()
        assert wrong.status == "rejected"
        note = wrong.worker.notifications.get(kind="answer.rejected")
        assert "The third letter is a t." in note.body and "appeal" in note.body

    def test_members_cannot_review(self, organization, member):
        _, (answer, _) = self._review_task(organization)
        with pytest.raises(Forbidden):
            review.answer_review(reviewer=member, answer=answer, accept=True)

    def test_appeal_goes_to_a_members_vote_and_passing_accepts_the_answer(self, organization, steward):
        from governance.models import Proposal
        from governance.services import ballot_cast, proposal_close

        _, (_, wrong) = self._review_task(organization)
        review.answer_review(reviewer=steward, answer=wrong, accept=False, reason="spam", feedback="Looks random to me.")
        worker = wrong.worker
        with pytest.raises(ApplicationError):
            review.answer_appeal_file(worker=worker, answer=wrong, reason="short")
        review.answer_appeal_file(worker=worker, answer=wrong, reason="The image really says cab, zoom in please.")
        with pytest.raises(Conflict):
            review.answer_appeal_file(worker=worker, answer=wrong, reason="Again and again and again.")
        # Stewards do not decide appeals: the members do.
        with pytest.raises(Conflict):
            review.answer_appeal_decide(decider=factories.make_steward(), answer=wrong, overturn=True)
        proposal = Proposal.objects.get(kind="appeal")
        for elector in proposal.electors.select_related("membership__user"):
            ballot_cast(proposal=proposal, user=elector.membership.user, choice="yes")
        proposal_close(proposal=proposal, now=proposal.closes_at)
        wrong.refresh_from_db()
        assert (wrong.status, wrong.appeal_status) == ("accepted", "overturned")
        assert worker.notifications.filter(kind="answer.appeal_decided").exists()

    def test_appeal_page_shows_the_case_and_the_parties_do_not_vote(self, organization, steward, client):
        from governance.models import Proposal

        _, (right, wrong) = self._review_task(organization)
        review.answer_review(reviewer=steward, answer=wrong, accept=False, reason="incorrect", feedback="Clearly a t, not a b.")
        review.answer_appeal_file(worker=wrong.worker, answer=wrong, reason="The image really says cab, zoom in please.")
        proposal = Proposal.objects.get(kind="appeal")
        parties = {wrong.worker.membership.pk, steward.membership.pk}
        assert parties <= set(proposal.conflicted)
        assert not proposal.electors.filter(membership_id__in=parties).exists()
        voter = factories.make_member()
        client.force_login(voter)
        page = client.get(f"/governance/proposals/{proposal.pk}/").content.decode()
        assert 'data-testid="appeal-case"' in page
        assert "Clearly a t, not a b." in page and "The image really says cab" in page  # the reason, the feedback, the statement
        assert str(right.payload["text"]) in page  # every other answer to the task
        client.force_login(wrong.worker)
        page = client.get(f"/governance/proposals/{proposal.pk}/").content.decode()
        assert "You are a party to this case" in page

    def test_failed_appeal_keeps_the_rejection(self, organization, steward):
        from governance.models import Proposal
        from governance.services import ballot_cast, proposal_close

        _, (_, wrong) = self._review_task(organization)
        review.answer_review(reviewer=steward, answer=wrong, accept=False, reason="incorrect", feedback="Clearly a t, not a b.")
        review.answer_appeal_file(worker=wrong.worker, answer=wrong, reason="I am sure it was a b there.")
        proposal = Proposal.objects.get(kind="appeal")
        for elector in proposal.electors.select_related("membership__user"):
            ballot_cast(proposal=proposal, user=elector.membership.user, choice="no")
        proposal_close(proposal=proposal, now=proposal.closes_at)
        wrong.refresh_from_db()
        assert (wrong.status, wrong.appeal_status) == ("rejected", "upheld")

    def test_appeal_through_the_api(self, organization, steward):
        _, (_, wrong) = self._review_task(organization)
        review.answer_review(reviewer=steward, answer=wrong, accept=False, reason="incorrect", feedback="Wrong letters here.")
        from rest_framework.test import APIClient

        api = APIClient()
        api.force_authenticate(wrong.worker)
        submissions = api.get("/api/v1/work/submissions/").json()["results"]
        assert submissions[0]["feedback"][0]["feedback"] == "Wrong letters here."
        response = api.post(f"/api/v1/work/answers/{wrong.pk}/appeal/", {"reason": "It is a b, see the tail."}, format="json")
        assert response.status_code == 200 and response.json()["appeal_status"] == "pending"

    def test_unreviewed_answers_auto_accept_after_the_review_period(self, organization):
        project, (a, b) = self._review_task(organization)
        assert answers_auto_accept_due() == 0
        Answer.objects.update(submitted_at=timezone.now() - timedelta(hours=project.review_period_hours + 1))
        assert answers_auto_accept_due() == 2
        assert set(Answer.objects.values_list("status", flat=True)) == {"accepted"}


class _Receiver(BaseHTTPRequestHandler):
    received: list = []
    fail_first = 0

    def do_POST(self):  # noqa: N802
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if _Receiver.fail_first > 0:
            _Receiver.fail_first -= 1
            self.send_response(503)
            self.end_headers()
            return
        _Receiver.received.append((dict(self.headers), body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def receiver():
    _Receiver.received = []
    _Receiver.fail_first = 0
    with serving(_Receiver) as server:
        yield server


def test_webhooks_are_signed_retried_and_sent_once(receiver, dramatiq_worker, settings):
    settings.WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]  # the local test receiver: loopback is refused by default
    organization = factories.make_organization("Hooks Inc")
    project = factories.make_project(organization, tasks=2, webhook_url=f"http://127.0.0.1:{receiver.server_port}/hook")
    secret = Project.objects.get(pk=project.pk).webhook_secret
    _Receiver.fail_first = 1  # the first delivery attempt gets a 503 and is retried with backoff
    worker = factories.make_member()
    for i in range(2):
        _work(project, worker, {"text": f"w{i}"}, key=str(i))
    join_queues(timeout_ms=60_000)
    events = sorted(json.loads(body)["event"] for _, body in _Receiver.received)
    assert events == ["project.completed", "task.accepted", "task.accepted"]
    for headers, body in _Receiver.received:
        expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        assert headers["X-Coop-Signature"] == expected
    assert WebhookDelivery.objects.filter(status="delivered").count() == 3
    assert max(WebhookDelivery.objects.values_list("attempts", flat=True)) == 2
    assert Project.objects.get(pk=project.pk).status == "closed"  # completed, then its books closed


@pytest.mark.django_db
class TestExportUnderTheDua:
    def test_purpose_is_required_checked_and_logged(self, org_api, organization, member):
        from governance.models import DataExportLog

        project = factories.make_project(organization, tasks=1)
        _work(project, member, {"text": "a"})
        url = f"/api/v1/projects/{project.pk}/results/"
        missing = org_api.get(url)
        assert missing.status_code == 400 and missing.json()["error"]["code"] == "purpose_required"
        refused = org_api.get(url, {"purpose": "surveillance"})
        assert refused.status_code == 403 and refused.json()["error"]["code"] == "purpose_not_permitted"
        ok = org_api.get(url, {"purpose": "evaluation"})
        assert ok.status_code == 200 and b"".join(ok.streaming_content)
        log = DataExportLog.objects.get()
        assert (log.purpose, log.rows, log.project_id, log.dua_id) == ("evaluation", 1, project.pk, project.dua_id)

    def test_export_refused_after_retention(self, org_api, organization, member):
        import datetime as dt

        from governance.models import Contract, DataUseAgreement

        project = factories.make_project(organization, tasks=1)
        _work(project, member, {"text": "a"})
        ended = timezone.now() - dt.timedelta(days=200)
        DataUseAgreement.objects.filter(pk=project.dua_id).update(status="expired", ended_at=ended)
        Contract.objects.filter(organization=organization).update(status="expired")
        response = org_api.get(f"/api/v1/projects/{project.pk}/results/", PURPOSE)
        assert response.status_code == 403 and response.json()["error"]["code"] == "retention_expired"
