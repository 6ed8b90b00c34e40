"""On PostgreSQL the results and answers exports are JSON built by the database (dataset_exports.label_lines,
answer_lines). They must say exactly what the Python rows say, for every awkward value a client's data holds."""

import json
from datetime import UTC, datetime, timedelta

import pytest

from marketplace import dataset_exports
from marketplace.models import AcceptedLabel, Answer, Task, WorkerProjectStats
from marketplace.services import claiming, submission
from tests import factories

pytestmark = pytest.mark.django_db

AWKWARD = ['quote " and back\\slash', "new\nline\ttab", "ünïcødé ✓ 漢字", "=HYPERLINK(1)", "", "\u2028 separator"]


def _work(project, worker, text, key):
    lease = claiming.work_next(worker=worker, project=project).assignment
    return submission.assignment_submit(worker=worker, assignment_id=lease.pk, payload={"text": text}, idempotency_key=key)[0]


@pytest.fixture
def exported(pg_only, organization, monkeypatch):
    monkeypatch.setattr(dataset_exports, "EXPORT_CHUNK", 2)  # several chunks, and ties across a chunk's edge
    project = factories.make_project(organization, tasks=6, overlap=1, max_overlap=1)
    alice, bob = factories.make_member(), factories.make_member()
    for index in range(6):
        _work(project, alice if index % 2 else bob, f"t{index}", str(index))
    tasks = list(Task.objects.filter(project=project).order_by("pk"))
    for task, external_id in zip(tasks, AWKWARD):
        Task.objects.filter(pk=task.pk).update(external_id=external_id)
    labels = list(AcceptedLabel.objects.filter(project=project).order_by("pk"))
    assert len(labels) == 6
    same = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)  # no microseconds: isoformat leaves them out
    AcceptedLabel.objects.filter(pk__in=[labels[1].pk, labels[2].pk, labels[3].pk]).update(accepted_at=same)
    AcceptedLabel.objects.filter(pk=labels[4].pk).update(accepted_at=same + timedelta(microseconds=120000), label={"text": AWKWARD[0], "n": [1, 2.5, None]})
    answers = list(Answer.objects.filter(task__project=project).order_by("pk"))
    Answer.objects.filter(pk__in=[answers[0].pk, answers[1].pk]).update(submitted_at=same, decided_at=None, agrees_with_label=None)
    Answer.objects.filter(pk=answers[2].pk).update(payload={"text": AWKWARD[1], "nested": {"ü": True}})
    WorkerProjectStats.objects.filter(worker=alice).delete()  # a worker only the second look names
    return project


def _parsed(lines):
    return [json.loads(line) for line in lines]


def test_the_databases_results_lines_equal_the_python_rows(exported):
    python = list(dataset_exports.label_rows(project=exported))
    assert len(python) == 6
    assert _parsed(dataset_exports.label_lines(project=exported)) == python
    since = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
    assert _parsed(dataset_exports.label_lines(project=exported, since=since)) == list(dataset_exports.label_rows(project=exported, since=since))


def test_the_databases_answer_lines_equal_the_python_rows(exported):
    python = list(dataset_exports.answer_rows(project=exported))
    assert len(python) == 6 and any(row["decided_at"] is None for row in python)
    assert _parsed(dataset_exports.answer_lines(project=exported)) == python


def test_each_line_is_one_compact_object_with_the_keys_in_order(exported):
    lines = list(dataset_exports.answer_lines(project=exported))
    assert all("\n" not in line for line in lines)
    assert list(json.loads(lines[0])) == dataset_exports.ANSWER_FIELDS
    assert list(json.loads(next(dataset_exports.label_lines(project=exported)))) == dataset_exports.LABEL_FIELDS


def test_the_api_streams_the_databases_lines(exported, org_api):
    response = org_api.get(f"/api/v1/projects/{exported.pk}/results/", {"purpose": "model_training"})
    assert response.status_code == 200, response.content
    body = b"".join(response.streaming_content).decode()
    assert "\u2028" not in body  # escaped: a reader that splits lines on it (Python's splitlines) still works
    assert [json.loads(line) for line in body.splitlines()] == list(dataset_exports.label_rows(project=exported))
