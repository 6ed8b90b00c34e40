"""Worker records: complete, filterable, exportable as CSV and JSON, and never another member's."""

import csv
import datetime as dt
import io
import json

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from marketplace.models import Assignment
from marketplace.services import claiming, review, submission
from tests import factories


def _records(api, **params):
    response = api.get("/api/v1/work/records/", params)
    assert response.status_code == 200, response.content
    return b"".join(response.streaming_content).decode()


@pytest.mark.django_db
def test_records_cover_every_assignment_with_pay_status_and_feedback(organization, steward):
    # Overlap 2: one worker's answer waits for review (accepted work is final, so only pending work is rejected).
    project = factories.make_project(organization, tasks=3, pay_per_task="0.1250", overlap=2)
    worker = factories.make_member()
    other = factories.make_member()
    outcomes = []
    for i in range(3):
        lease = claiming.work_next(worker=worker, project=project).assignment
        if i == 2:
            claiming.assignment_release(worker=worker, assignment_id=lease.pk)
            continue
        answer, _ = submission.assignment_submit(worker=worker, assignment_id=lease.pk, payload={"text": f"a{i}"}, idempotency_key=str(i))
        outcomes.append(answer)
    review.answer_review(reviewer=steward, answer=outcomes[0], accept=True)
    review.answer_review(reviewer=steward, answer=outcomes[1], accept=False, reason="incorrect", feedback="Second letter is b.")
    other_lease = claiming.work_next(worker=other, project=project).assignment

    api = APIClient()
    api.force_authenticate(worker)
    rows = json.loads(_records(api))
    assert len(rows) == 3 and other_lease.pk not in [r["assignment_id"] for r in rows]
    by_outcome = sorted((r["outcome"], r["answer_status"], r["pay"]) for r in rows)
    assert by_outcome == [("released", "", "0"), ("submitted", "accepted", "0.1250"), ("submitted", "rejected", "0")]
    rejected = next(r for r in rows if r["answer_status"] == "rejected")
    assert rejected["feedback"] == "The answer is incorrect: Second letter is b."
    assert rejected["client"] == organization.name and rejected["data_use_agreement"].startswith("DUA #")

    table = list(csv.DictReader(io.StringIO(_records(api, format="csv"))))
    assert len(table) == 3 and set(table[0]) >= {"project", "client", "task_type", "started_at", "active_seconds", "pay", "feedback"}


@pytest.mark.django_db
def test_records_filter_by_date_and_refuse_bad_dates(organization):
    project = factories.make_project(organization, tasks=2)
    worker = factories.make_member()
    first = claiming.work_next(worker=worker, project=project).assignment
    submission.assignment_submit(worker=worker, assignment_id=first.pk, payload={"text": "x"}, idempotency_key="1")
    Assignment.objects.filter(pk=first.pk).update(leased_at=timezone.now() - dt.timedelta(days=40))
    claiming.work_next(worker=worker, project=project)
    api = APIClient()
    api.force_authenticate(worker)
    since = (timezone.localdate() - dt.timedelta(days=7)).isoformat()
    assert len(json.loads(_records(api, **{"from": since}))) == 1
    assert len(json.loads(_records(api, to=since))) == 1
    bad = api.get("/api/v1/work/records/", {"from": "last week"})
    assert bad.status_code == 400 and "from" in bad.json()["error"]["fields"]
    backwards = api.get("/api/v1/work/records/", {"from": "2026-02-01", "to": "2026-01-01"})
    assert backwards.status_code == 400


@pytest.mark.django_db
def test_records_page_and_download_are_only_mine(client, organization):
    project = factories.make_project(organization, tasks=2, title="Mine only")
    me, someone = factories.make_member(), factories.make_member()
    claiming.work_next(worker=someone, project=project)
    client.force_login(me)
    assert "No records in this range." in client.get("/work/records/").content.decode()
    claiming.work_next(worker=me, project=project)
    page = client.get("/work/records/").content.decode()
    assert page.count('data-testid="record"') == 1 and "Mine only" in page
    download = client.get("/work/records/", {"download": "1", "format": "csv"})
    assert download["Content-Disposition"].endswith('.csv"')
    assert len(list(csv.DictReader(io.StringIO(b"".join(download.streaming_content).decode())))) == 1
    assert client.get("/work/records/", {"from": "nope"}).status_code == 302
