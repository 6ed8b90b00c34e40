"""Labelled data leaves only under the data-use agreement in force, on every path, as a client would try to get it out.

- A project follows its DUA's ratified amendment at once: exports keep working, under the new terms.
- After the client attests deletion, nothing is released again: results, a task's answers, the console, webhooks.
- The export log counts the rows actually sent, also when the client hangs up mid-stream.
"""

import json
from http.server import BaseHTTPRequestHandler

import pytest
from django.utils import timezone

from governance import services as governance
from governance.models import DataExportLog
from marketplace.models import Task, WebhookDelivery
from marketplace.selectors import label_rows
from marketplace.services import claiming, exports, submission, webhooks
from tests import factories
from tests.http_receiver import serving


def _work(project, worker, text, key):
    lease = claiming.work_next(worker=worker, project=project).assignment
    return submission.assignment_submit(worker=worker, assignment_id=lease.pk, payload={"text": text}, idempotency_key=key)[0]


def _amend(project, **changes):
    """Amend the project's DUA and ratify the amendment by a members' vote; returns the new version."""
    amendment = governance.dua_amend(actor=factories.make_steward(), dua=project.dua, **changes)
    return factories.ratify_by_vote(amendment)


def _export(org_api, project, purpose="model_training", **params):
    return org_api.get(f"/api/v1/projects/{project.pk}/results/", {"purpose": purpose, **params})


def _attest(project):
    dua = project.dua
    governance.dua_attest_deletion(
        actor=factories.make_client_user(project.organization, email=f"cto{dua.pk}@acme.example"),
        dua=type(dua).objects.get(family=dua.family, status="active"),
        statement="We deleted every copy of the labels and the images.",
    )


@pytest.mark.django_db
class TestAmendmentsGovernAtOnce:
    def test_adversarial_export_keeps_working_under_the_amendment_and_its_new_terms(self, org_api, organization, member):
        project = factories.make_project(organization, tasks=2)
        _work(project, member, "a", "1")
        v1 = project.dua
        v2 = _amend(project, permitted_purposes=["evaluation"])
        assert (v2.version, v2.status) == (2, "active")
        v1.refresh_from_db()
        assert v1.status == "superseded"

        # Published under v1; v1 is superseded: the export follows v2 instead of failing "not in force".
        ok = _export(org_api, project, purpose="evaluation")
        assert ok.status_code == 200 and len(b"".join(ok.streaming_content).splitlines()) == 1
        assert DataExportLog.objects.get().dua_id == v2.pk

        # v2 dropped model_training: refused from the moment it was ratified.
        dropped = _export(org_api, project, purpose="model_training")
        assert dropped.status_code == 403 and dropped.json()["error"]["code"] == "purpose_not_permitted"

    def test_adversarial_webhook_follows_the_amendment(self, organization, member, receiver, settings):
        settings.WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]
        project = factories.make_project(organization, tasks=2, webhook_url=f"http://127.0.0.1:{receiver.server_port}/hook")
        _amend(project, retention_days=30)
        _work(project, member, "a", "1")
        delivery = WebhookDelivery.objects.get(event="task.accepted")
        assert webhooks.webhook_deliver(delivery_id=delivery.pk) is True
        assert json.loads(_Receiver.received[0])["label"] == {"text": "a"}


@pytest.mark.django_db
class TestNothingLeavesAfterDeletion:
    def test_adversarial_every_export_path_is_refused_after_deletion_is_attested(self, org_api, organization, member):
        project = factories.make_project(organization, tasks=2)
        answer = _work(project, member, "a", "1")
        _amend(project, retention_days=30)  # the attestation is on v2; the project was published under v1
        _attest(project)

        results = _export(org_api, project)
        assert results.status_code == 403 and results.json()["error"]["code"] == "deletion_attested"
        answers = org_api.get(f"/api/v1/projects/{project.pk}/tasks/{answer.task_id}/answers/", {"purpose": "model_training"})
        assert answers.status_code == 403 and answers.json()["error"]["code"] == "deletion_attested"

        client = factories.make_client_user(organization, email="console@acme.example")
        from django.test import Client

        browser = Client()
        browser.force_login(client)
        page = browser.get(f"/client/projects/{project.pk}/results/", {"purpose": "model_training", "format": "jsonl"}, follow=True)
        assert "Results not downloaded" in page.content.decode() and "deleted" in page.content.decode()
        assert not DataExportLog.objects.exists()

    def test_adversarial_a_queued_webhook_is_not_sent_after_deletion(self, organization, member, receiver, settings):
        settings.WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]
        project = factories.make_project(organization, tasks=2, webhook_url=f"http://127.0.0.1:{receiver.server_port}/hook")
        _work(project, member, "a", "1")
        delivery = WebhookDelivery.objects.get(event="task.accepted")
        _attest(project)  # between the label's acceptance and the delivery (a retry, or a slow queue)

        assert webhooks.webhook_deliver(delivery_id=delivery.pk) is False
        delivery.refresh_from_db()
        assert delivery.status == "failed" and "deletion_attested" in delivery.last_error
        assert _Receiver.received == []


@pytest.mark.django_db
class TestExportLogCountsWhatWasSent:
    def test_adversarial_since_filter_logs_the_rows_sent_not_the_project_total(self, org_api, organization, member):
        project = factories.make_project(organization, tasks=3)
        for i in range(3):
            _work(project, member, f"t{i}", str(i))
        last = Task.objects.filter(project=project).order_by("-pk").first().label.accepted_at
        body = b"".join(_export(org_api, project, since=(last - timezone.timedelta(microseconds=1)).isoformat()).streaming_content)
        assert len(body.splitlines()) == 1
        log = DataExportLog.objects.get()
        assert (log.rows, log.finished_at is not None) == (1, True)

    def test_adversarial_a_client_hanging_up_mid_stream_is_logged_with_what_it_got(self, organization, member):
        project = factories.make_project(organization, tasks=4)
        for i in range(4):
            _work(project, member, f"t{i}", str(i))
        entry = exports.export_begin(project=project, purpose="model_training")
        assert DataExportLog.objects.get().finished_at is None  # open: logged before the first row
        stream = exports.export_rows_counted(label_rows(project=project), entry=entry)
        next(stream), next(stream), next(stream)
        stream.close()  # the connection drops: the server closes the response, and so this iterator
        log = DataExportLog.objects.get()
        assert log.finished_at is not None and log.rows == 2  # two rows went out; the third was never written

    def test_finishing_twice_changes_nothing(self, org_api, organization, member):
        project = factories.make_project(organization, tasks=1)
        _work(project, member, "a", "1")
        b"".join(_export(org_api, project).streaming_content)
        entry = DataExportLog.objects.get()
        governance.dua_export_finish(entry=entry, rows=1000)
        assert DataExportLog.objects.get().rows == 1


class _Receiver(BaseHTTPRequestHandler):
    received: list = []

    def do_POST(self):  # noqa: N802
        _Receiver.received.append(self.rfile.read(int(self.headers["Content-Length"])))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def receiver():
    _Receiver.received = []
    with serving(_Receiver) as server:
        yield server
