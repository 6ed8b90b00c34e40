"""Training runs on the real dramatiq broker and worker: end to end, resume after an interruption, cancellation.

Tiny data (a dozen CAPTCHAs), timm's test_resnet on the CPU, two or three
epochs: each run takes a few seconds. These tests import torch (mark ml).
"""

from __future__ import annotations

import time

import pytest

from marketplace.models import Answer, Task
from mlops.models import ModelVersion, PredictionUsage, TrainingMetric, TrainingRun
from mlops.services import training
from tests import factories
from tests.conftest import join_queues

from .conftest import FAST_CONFIG, captcha_b64, labelled_project, steward_api

pytestmark = pytest.mark.ml
pytest.importorskip("torch")
pytest.importorskip("timm")


def _wait(run_id, statuses, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run = TrainingRun.objects.get(pk=run_id)
        if run.status in statuses:
            return run
        time.sleep(0.1)
    raise AssertionError(f"run {run_id} still {TrainingRun.objects.get(pk=run_id).status}")


def test_steward_starts_a_run_through_the_api_the_gpu_job_trains_registers_and_the_client_predicts(
    dramatiq_worker, org_api, organization, settings
):
    # Two epochs on nine images: the gates would (rightly) refuse this model; this test is about the plumbing.
    settings.MLOPS_PROMOTE_MIN_ACCURACY = 0.0
    settings.MLOPS_PREFILL_MIN_CONFIDENCE = 0.0
    steward = factories.make_steward()
    project = labelled_project(organization, 14, unlabelled=1, model_assisted=True)
    response = steward_api(steward).post(
        "/api/v1/mlops/runs/",
        {"model_name": "captcha", "projects": [project.pk], "config": FAST_CONFIG, "auto_promote": True,
         "snapshot_options": {"charset": "0123456789", "val_fraction": "0.2", "test_fraction": "0.2", "seed": 1}},  # seed 1: 9 train, 2 val, 3 test
        format="json",
    )
    assert response.status_code == 201, response.content
    assert response.json()["status"] == "queued"
    join_queues(timeout_ms=120_000)

    run = TrainingRun.objects.get(pk=response.json()["id"])
    assert run.status == "succeeded", run.log
    assert run.device == "cpu" and run.attempts == 1 and run.train_seconds > 0
    assert run.progress["epoch"] == 2 and run.progress["event"] == "epoch"
    epochs = list(TrainingMetric.objects.filter(run=run, event="epoch").values_list("epoch", flat=True))
    assert epochs == [1, 2]
    assert TrainingMetric.objects.filter(run=run, event="step").exists()
    version = ModelVersion.objects.get(training_run=run)
    assert (version.name, version.version, version.promoted) == ("captcha", 1, True)
    assert version.metrics["train_n"] == run.snapshot.train_count and "test_seq_acc" in version.metrics
    assert version.charset == run.snapshot.charset

    # The client reads images with its promoted model: text, per-character confidence and the model version.
    body = {"images": [captcha_b64("1234"), captcha_b64("9876")]}
    predicted = org_api.post("/api/v1/ocr/predict/", body, format="json")
    assert predicted.status_code == 200, predicted.content
    data = predicted.json()
    assert data["model"] == {"id": version.pk, "name": "captcha", "version": 1}
    assert len(data["predictions"]) == 2
    for prediction in data["predictions"]:
        assert set(prediction["text"]) <= set(version.charset) and len(prediction["text"]) <= version.max_len
        assert len(prediction["char_confidences"]) == len(prediction["text"])
        assert all(0 <= c <= 1 for c in prediction["char_confidences"]) and 0 <= prediction["confidence"] <= 1
    assert PredictionUsage.objects.get(organization=organization, model_version=version).predictions == 2

    # Model-assisted labeling: the task left unlabelled comes with the model's guess; keeping it records edited=False.
    worker = factories.make_member()
    from rest_framework.test import APIClient

    worker_api = APIClient()
    worker_api.force_authenticate(worker)
    work = worker_api.post("/api/v1/work/next/", {"project": project.pk}, format="json").json()
    prefill = work["task"]["data"]["prefill"]
    assert prefill and set(prefill) <= set(version.charset)
    submitted = worker_api.post(
        f"/api/v1/work/assignments/{work['assignment']['id']}/submit/",
        {"answer": {"text": prefill}, "prefilled": prefill}, format="json", HTTP_IDEMPOTENCY_KEY="one",
    )
    assert submitted.status_code == 201
    answer = Answer.objects.get(pk=submitted.json()["id"])
    assert (answer.prefilled, answer.edited) == (prefill, False)
    assert Task.objects.get(project=project, external_id="cap-14").state == "accepted"


def test_an_interrupted_run_is_retried_and_resumes_from_its_last_checkpoint(dramatiq_worker, organization, fast_retries, monkeypatch):
    steward = factories.make_steward()
    project = labelled_project(organization, 12)
    emitted: list[tuple[int, dict]] = []
    real_call = training._Reporter.__call__
    state = {"failed": False}

    def flaky(self, event):
        emitted.append((TrainingRun.objects.get(pk=self.run_id).attempts, dict(event)))
        real_call(self, event)
        if event["event"] == "epoch" and event["epoch"] == 2 and not state["failed"]:
            state["failed"] = True  # the worker "crashes" right after the epoch-2 checkpoint was written
            raise RuntimeError("simulated crash")

    monkeypatch.setattr(training._Reporter, "__call__", flaky)
    run = training.training_run_start(actor=steward, model_name="resume", projects=[project], config=FAST_CONFIG | {"epochs": 3},
                                      snapshot_options={"val_fraction": "0.25", "test_fraction": "0"})
    run = _wait(run.pk, TrainingRun.FINISHED)
    assert run.status == "succeeded", run.log
    assert run.attempts == 2
    assert "interrupted: RuntimeError: simulated crash" in run.log and "resuming from the last checkpoint" in run.log
    end_of_epoch_2 = next(e["step"] for a, e in emitted if a == 1 and e["event"] == "epoch" and e["epoch"] == 2)
    assert [e["step"] for a, e in emitted if a == 2 and e["event"] == "start"] == [end_of_epoch_2]  # resumed exactly there
    second = [e for a, e in emitted if a == 2 and e["event"] != "start"]
    assert second and min(e["step"] for e in second) > end_of_epoch_2  # nothing before the checkpoint was trained again
    assert [e["epoch"] for e in second if e["event"] == "epoch"] == [3]
    assert list(TrainingMetric.objects.filter(run=run, event="epoch").values_list("epoch", flat=True)) == [1, 2, 3]
    steps = list(TrainingMetric.objects.filter(run=run).values_list("event", "step"))
    assert len(steps) == len(set(steps))  # the curve has no duplicate points
    assert ModelVersion.objects.get(training_run=run).metrics["epochs_run"] == 3


def test_cancelling_a_running_run_stops_it_at_the_next_step(dramatiq_worker, organization):
    steward = factories.make_steward()
    project = labelled_project(organization, 12)
    run = training.training_run_start(actor=steward, model_name="cancel-me", projects=[project],
                                      config=FAST_CONFIG | {"epochs": 500}, snapshot_options={"test_fraction": "0"})
    deadline = time.monotonic() + 60
    while not TrainingMetric.objects.filter(run=run).exists():
        assert time.monotonic() < deadline, TrainingRun.objects.get(pk=run.pk).log
        time.sleep(0.1)
    response = steward_api(steward).post(f"/api/v1/mlops/runs/{run.pk}/cancel/")
    assert response.status_code == 200 and response.json()["cancel_requested"] is True
    run = _wait(run.pk, TrainingRun.FINISHED, timeout=30)
    assert run.status == "cancelled" and "checkpoint kept" in run.status_reason
    assert run.progress["epoch"] < 500
    assert not ModelVersion.objects.filter(training_run=run).exists()
