"""Starting and cancelling runs: who may, validation of settings, and queued-run cancellation (no worker needed)."""

from __future__ import annotations

import pytest

from coop.errors import Forbidden
from mlops.models import DatasetSnapshot, TrainingRun
from mlops.services import training
from tests import factories

from .conftest import FAST_CONFIG, labelled_project, steward_api

pytestmark = pytest.mark.django_db


def test_members_and_clients_cannot_start_runs(member, member_api, org_api, organization):
    labelled_project(organization, 2)
    body = {"model_name": "captcha", "config": FAST_CONFIG}
    assert member_api.post("/api/v1/mlops/runs/", body, format="json").status_code == 403
    assert org_api.post("/api/v1/mlops/runs/", body, format="json").status_code == 403
    with pytest.raises(Forbidden):
        training.training_run_start(actor=member, model_name="captcha")
    assert not TrainingRun.objects.exists() and not DatasetSnapshot.objects.exists()


def test_a_steward_starts_a_run_which_is_queued_with_the_snapshot_charset(steward, organization):
    labelled_project(organization, 4)
    api = steward_api(steward)
    response = api.post("/api/v1/mlops/runs/", {"model_name": "captcha", "config": {"epochs": 3, "backbone": "resnet18"}}, format="json")
    assert response.status_code == 201, response.content
    run = TrainingRun.objects.get(pk=response.json()["id"])
    assert run.status == "queued" and run.config["epochs"] == 3 and run.config["backbone"] == "resnet18"
    assert run.config["charset"] == run.snapshot.charset and run.config["max_len"] == 4
    assert run.checkpoint_dir.endswith(f"/runs/{run.pk}")
    detail = api.get(f"/api/v1/mlops/runs/{run.pk}/").json()
    assert detail["curve"] == {"steps": [], "epochs": []} and "queued by" in detail["log"]


def test_bad_settings_are_refused_with_the_field_named(steward, organization):
    labelled_project(organization, 2)
    api = steward_api(steward)
    response = api.post("/api/v1/mlops/runs/", {"model_name": "captcha", "config": {"epochz": 3}}, format="json")
    assert response.status_code == 422 and response.json()["error"]["code"] == "invalid_config"
    response = api.post("/api/v1/mlops/runs/", {"model_name": "captcha", "config": {"optimizer": "adam"}}, format="json")
    assert response.status_code == 422 and "optimizer" in response.json()["error"]["message"]
    response = api.post("/api/v1/mlops/runs/", {"model_name": "Bad Name!"}, format="json")
    assert response.status_code == 422
    assert not TrainingRun.objects.exists()


def test_no_training_data_when_every_label_is_excluded(steward, organization):
    labelled_project(organization, 2, dua_terms={"train_models": False, "permitted_purposes": ["evaluation"]})
    response = steward_api(steward).post("/api/v1/mlops/runs/", {"model_name": "captcha"}, format="json")
    assert response.status_code == 422 and response.json()["error"]["code"] == "empty_snapshot"


def test_cancelling_a_queued_run_cancels_it_at_once_and_the_job_then_does_nothing(steward, organization):
    labelled_project(organization, 2)
    run = training.training_run_start(actor=steward, model_name="captcha", config=FAST_CONFIG)
    member = factories.make_member()
    with pytest.raises(Forbidden):
        training.training_run_cancel(actor=member, run=run)
    response = steward_api(steward).post(f"/api/v1/mlops/runs/{run.pk}/cancel/")
    assert response.status_code == 200 and response.json()["status"] == "cancelled"
    training.training_run_execute(run_id=run.pk)  # the queued job arrives later: nothing to do
    run.refresh_from_db()
    assert run.status == "cancelled" and run.attempts == 0
    assert steward_api(steward).post(f"/api/v1/mlops/runs/{run.pk}/cancel/").status_code == 409


def test_retries_exhausted_mark_the_run_failed(steward, organization):
    from mlops.tasks import training_run_gave_up

    labelled_project(organization, 2)
    run = training.training_run_start(actor=steward, model_name="captcha", config=FAST_CONFIG)
    training_run_gave_up.fn({"args": [run.pk]}, {"retries": 3, "max_retries": 3})
    run.refresh_from_db()
    assert run.status == "failed" and "gave up after 3 retries" in run.status_reason
