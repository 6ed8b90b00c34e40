"""Every individual answer, preference pairs in TRL's shape, and a datasheet of the raters behind the data."""

import csv
import io
import json
import re
from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from governance.models import DataExportLog
from marketplace.services import claiming, submission
from tests import factories

pytestmark = pytest.mark.django_db
PURPOSE = {"purpose": "model_training"}


def _work(project, worker, payload, key, seconds=None):
    lease = claiming.work_next(worker=worker, project=project).assignment
    answer = submission.assignment_submit(worker=worker, assignment_id=lease.pk, payload=payload, idempotency_key=key)[0]
    if seconds:
        type(answer).objects.filter(pk=answer.pk).update(active_seconds=seconds)
    return answer


def _lines(response):
    assert response.status_code == 200, response.content
    return [json.loads(line) for line in b"".join(response.streaming_content).decode().splitlines()]


def test_every_answer_is_exported_with_pseudonyms_not_only_the_consensus(org_api, organization):
    project = factories.make_project(organization, tasks=1, overlap=2, max_overlap=2, agreement_target="0.9")
    alice, bob = factories.make_member(), factories.make_member()
    _work(project, alice, {"text": "cat"}, "1")
    _work(project, bob, {"text": "cab"}, "2")  # they disagree: no consensus label, the task waits for review
    url = f"/api/v1/projects/{project.pk}/answers/"
    assert org_api.get(url).json()["error"]["code"] == "purpose_required"
    rows = _lines(org_api.get(url, PURPOSE))
    assert [r["answer"] for r in rows] == [{"text": "cat"}, {"text": "cab"}]
    assert len({r["worker"] for r in rows}) == 2 and all(r["worker"].startswith("w_") for r in rows)
    assert alice.email not in json.dumps(rows) and rows[0]["status"] == "pending"
    assert DataExportLog.objects.get().rows == 2

    table = list(csv.DictReader(io.StringIO(b"".join(org_api.get(url, {**PURPOSE, "format": "csv"}).streaming_content).decode())))
    assert json.loads(table[1]["answer"]) == {"text": "cab"}


def test_adversarial_another_client_gets_nothing(organization, member):
    project = factories.make_project(organization, tasks=1)
    _work(project, member, {"text": "a"}, "1")
    rival = APIClient()
    rival.credentials(HTTP_AUTHORIZATION=f"Bearer {factories.org_token(factories.make_organization('Rival'))}")
    for path in ("answers", "preferences", "datasheet"):
        assert rival.get(f"/api/v1/projects/{project.pk}/{path}/", PURPOSE).status_code == 404
    assert not DataExportLog.objects.exists()


def test_preference_pairs_take_trls_shape_and_leave_ties_out(org_api, organization):
    project = factories.make_project(organization, task_type="pairwise", tasks=3)
    worker = factories.make_member()
    for i, preferred in enumerate(["a", "b", "tie"]):
        _work(project, worker, {"preferred": preferred, "reason": ""}, str(i))
    url = f"/api/v1/projects/{project.pk}/preferences/"
    pairs = _lines(org_api.get(url, PURPOSE))
    assert pairs == [{"prompt": "Q0?", "chosen": "A", "rejected": "B"}, {"prompt": "Q1?", "chosen": "B", "rejected": "A"}]
    from_answers = org_api.get(url, {**PURPOSE, "source": "answers"})
    assert f"/api/v1/projects/{project.pk}/datasheet/" in from_answers["Link"] and _lines(from_answers) == pairs
    assert org_api.get(url, {**PURPOSE, "source": "everything"}).status_code == 400
    ocr = factories.make_project(organization, tasks=1)
    refused = org_api.get(f"/api/v1/projects/{ocr.pk}/preferences/", PURPOSE)
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "not_a_preference_project"


def test_the_datasheet_describes_the_raters_without_exposing_any_of_them(org_api, organization):
    project = factories.make_project(organization, tasks=7, pay_per_task="0.10", estimated_seconds=12)
    kenyans = [factories.make_member(country="KE", languages=["en", "sw"]) for _ in range(5)]
    german = factories.make_member(country="DE", languages=["de", "en"])
    for i, worker in enumerate([*kenyans, german]):
        _work(project, worker, {"text": f"t{i}"}, str(i), seconds=18 if i % 2 else 12)  # 20.00 or 30.00/hour
    sheet = org_api.get(f"/api/v1/projects/{project.pk}/datasheet/").json()
    assert (sheet["raters"], sheet["labels"], sheet["accepted_answers"]) == (6, 6, 6)
    assert sheet["rater_countries"] == {"counts": {"KE": 5}, "fewer_than_5": 1, "cells_suppressed": 1}  # the one German is not shown
    assert sheet["rater_languages"]["counts"] == {"en": 6, "sw": 5} and sheet["rater_languages"]["fewer_than_5"] == 1
    pay = sheet["pay"]
    assert (Decimal(pay["median_hourly"]), Decimal(pay["p10_hourly"]), pay["answers_measured"]) == (Decimal("20"), Decimal("20"), 6)
    assert pay["share_topped_up"] == "0.000" and pay["posted_time_basis"] == "client_estimate"
    assert sheet["data_use_agreement"]["version"] == 1 and "model_training" in sheet["data_use_agreement"]["permitted_purposes"]
    assert german.email not in json.dumps(sheet) and "w_" not in json.dumps(sheet)
    results = org_api.get(f"/api/v1/projects/{project.pk}/results/", PURPOSE)
    assert f"/api/v1/projects/{project.pk}/datasheet/" in results["Link"]


def test_the_console_downloads_every_answer_and_shows_the_datasheet(client, organization):
    project = factories.make_project(organization, task_type="pairwise", tasks=2)
    worker = factories.make_member(country="KE")
    _work(project, worker, {"preferred": "b", "reason": ""}, "1")
    client.force_login(factories.make_client_user(organization))
    page = client.get(f"/client/projects/{project.pk}/").content.decode()
    assert 'value="preferences"' in page and 'data-testid="datasheet-link"' in page
    response = client.get(f"/client/projects/{project.pk}/results/", {**PURPOSE, "data": "preferences"})
    assert _lines(response) == [{"prompt": "Q0?", "chosen": "B", "rejected": "A"}]
    response = client.get(f"/client/projects/{project.pk}/results/", {**PURPOSE, "data": "answers", "format": "csv"})
    assert json.loads(list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))[0]["answer"])["preferred"] == "b"
    sheet = client.get(f"/client/projects/{project.pk}/datasheet/").content.decode()
    assert "1</strong> rater" in sheet and not re.search(r"\bKE\b", sheet) and "1 more in 1 group of fewer than 5" in sheet


def test_results_rows_keep_each_labels_annotators_across_chunks_in_one_query_per_chunk(
    organization, monkeypatch, django_assert_num_queries
):
    from marketplace import dataset_exports
    from marketplace.selectors import worker_pseudonym

    project = factories.make_project(organization, tasks=5, overlap=2, max_overlap=2, agreement_target="0.5")
    members = [factories.make_member() for _ in range(3)]
    for i in range(5):  # task i answered by two of the three members, in turn
        for member in (members[i % 3], members[(i + 1) % 3]):
            _work(project, member, {"text": f"t{i}"}, f"{i}-{member.pk}")
    monkeypatch.setattr(dataset_exports, "EXPORT_CHUNK", 2)  # 5 labels: chunks of 2, 2 and 1
    with django_assert_num_queries(6):  # per chunk of 2, 2 and 1: its labels (one keyset query) and their annotators
        rows = list(dataset_exports.label_rows(project=project))
    assert [row["label"] for row in rows] == [{"text": f"t{i}"} for i in range(5)]
    for i, row in enumerate(rows):
        expected = sorted(worker_pseudonym(organization_id=organization.pk, worker_id=m.pk) for m in (members[i % 3], members[(i + 1) % 3]))
        assert row["annotators"] == expected and row["agreement"] == "1.000" and row["method"] == "consensus"
