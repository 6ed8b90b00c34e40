"""Portal pages and admin of mlops: who sees what, who may act, and the live-progress WebSocket."""

from __future__ import annotations

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator

from config.asgi import application
from mlops.models import ModelVersion, TrainingMetric, TrainingRun
from mlops.services import training
from mlops.services.snapshots import snapshot_create
from tests import factories

from .conftest import FAST_CONFIG, labelled_project, registered_version


@pytest.fixture
def run(db, steward, organization):
    labelled_project(organization, 3)
    return training.training_run_start(actor=steward, model_name="captcha", config=FAST_CONFIG)


@pytest.mark.django_db
def test_members_see_runs_models_and_snapshots_but_cannot_act(client, member, run):
    client.force_login(member)
    TrainingMetric.objects.create(run=run, event="epoch", epoch=1, step=4, loss=1.5, val_seq_acc=0.25, val_char_acc=0.5)
    version = registered_version(run.snapshot)
    for url in ("/mlops/runs/", f"/mlops/runs/{run.pk}/", "/mlops/models/", f"/mlops/models/{version.pk}/", "/mlops/snapshots/",
                f"/mlops/snapshots/{run.snapshot_id}/"):
        assert client.get(url).status_code == 200, url
    page = client.get(f"/mlops/runs/{run.pk}/").content.decode()
    assert 'id="run-curve"' in page and '"val_seq_acc": 0.25' in page and "mlops/run.js" in page
    assert "Start a training run" not in client.get("/mlops/runs/").content.decode()
    assert client.post("/mlops/runs/", {"model_name": "x"}).status_code == 403
    assert client.post(f"/mlops/runs/{run.pk}/cancel/").status_code == 403
    assert client.post(f"/mlops/models/{version.pk}/promote/").status_code == 403
    assert not ModelVersion.objects.filter(promoted=True).exists()
    run.refresh_from_db()
    assert not run.cancel_requested


@pytest.mark.django_db
def test_clients_do_not_see_the_mlops_pages(client, client_user, run):
    client.force_login(client_user)
    assert client.get("/mlops/models/").status_code == 403


@pytest.mark.django_db
def test_a_steward_starts_a_run_from_the_portal_and_promotes_from_the_registry(client, steward, organization):
    project = labelled_project(organization, 3)
    client.force_login(steward)
    response = client.post("/mlops/runs/", {"model_name": "portal-model", "projects": [project.pk], "max_len": 8, "epochs": 2,
                                            "batch_size": 8, "lr": "0.002", "backbone": "test_resnet"})
    run = TrainingRun.objects.get(model_name="portal-model")
    assert response.status_code == 302 and response.url == f"/mlops/runs/{run.pk}/"
    assert run.config["backbone"] == "test_resnet" and run.config["epochs"] == 2 and run.snapshot.max_len_allowed == 8
    version = registered_version(run.snapshot, name="portal-model")
    client.post(f"/mlops/models/{version.pk}/promote/")
    assert ModelVersion.objects.get(pk=version.pk).promoted
    client.post(f"/mlops/runs/{run.pk}/cancel/")
    assert TrainingRun.objects.get(pk=run.pk).status == "cancelled"
    assert "My data dividends" in client.get("/mlops/models/").content.decode()


@pytest.mark.django_db
def test_admin_actions_train_promote_and_cancel(client, steward, organization):
    labelled_project(organization, 3)
    snapshot = snapshot_create(actor=steward, name="admin-model")
    client.force_login(steward)
    for model in ("datasetsnapshot", "snapshotitem", "snapshotexclusion", "trainingrun", "modelversion", "modelpromotion",
                  "predictionusage"):
        assert client.get(f"/admin/mlops/{model}/").status_code == 200, model
    client.post("/admin/mlops/datasetsnapshot/", {"action": "train_on_snapshot", "_selected_action": [snapshot.pk]})
    run = TrainingRun.objects.get(snapshot=snapshot)
    assert run.model_name == "admin-model" and run.status == "queued"
    client.post("/admin/mlops/trainingrun/", {"action": "cancel_runs", "_selected_action": [run.pk]})
    assert TrainingRun.objects.get(pk=run.pk).status == "cancelled"
    version = registered_version(snapshot, name="admin-model")
    client.post("/admin/mlops/modelversion/", {"action": "promote", "_selected_action": [version.pk]})
    assert ModelVersion.objects.get(pk=version.pk).promoted
    assert client.get(f"/admin/mlops/datasetsnapshot/{snapshot.pk}/change/").status_code == 200
    # Read-only: no add or delete through the admin.
    assert client.get("/admin/mlops/datasetsnapshot/add/").status_code == 403


def _socket(client, run_id):
    headers = [(b"origin", b"http://testserver"), (b"host", b"testserver"),
               (b"cookie", f"sessionid={client.cookies['sessionid'].value}".encode())]
    return WebsocketCommunicator(application, f"/ws/mlops/runs/{run_id}/", headers=headers)


@pytest.mark.django_db(transaction=True)
def test_progress_reaches_the_run_socket_live(client):
    steward = factories.make_steward()
    labelled_project(factories.make_organization(), 2)
    run = training.training_run_start(actor=steward, model_name="live", config=FAST_CONFIG)
    member = factories.make_member()
    client.force_login(member)

    async def scenario():
        socket = _socket(client, run.pk)
        connected, _ = await socket.connect()
        assert connected
        reporter = training._Reporter(run.pk)
        event = {"event": "step", "epoch": 1, "epochs": 2, "step": 2, "total_steps": 4, "loss": 2.5, "lr": 0.001,
                 "images_per_s": 40.0, "val_seq_acc": None, "val_char_acc": None, "best_val_seq_acc": None, "elapsed_s": 0.5}
        await database_sync_to_async(reporter)(event)
        message = await socket.receive_json_from(timeout=5)
        assert message["kind"] == "progress" and message["step"] == 2 and message["loss"] == 2.5
        await database_sync_to_async(training.training_run_cancel)(actor=steward, run=run)
        message = await socket.receive_json_from(timeout=5)
        assert message["kind"] == "status" and message["status"] == "cancelled"
        await socket.disconnect()

    async_to_sync(scenario)()
    assert TrainingMetric.objects.get(run=run).loss == 2.5


@pytest.mark.django_db(transaction=True)
def test_clients_cannot_open_a_run_socket(client):
    organization = factories.make_organization()
    client.force_login(factories.make_client_user(organization))

    async def scenario():
        connected, _ = await _socket(client, 1).connect()
        assert not connected

    async_to_sync(scenario)()
