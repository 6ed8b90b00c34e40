"""Recovery of training runs whose worker died: heartbeat, stale detection by the scheduler, resume, redelivered messages.

The SIGKILL test runs the gpu-queue job in a real subprocess (its own Django
and database connection), kills it mid-training with SIGKILL, and lets the
scheduler's sweep re-enqueue the run, which resumes from the last checkpoint
on this process's dramatiq worker. These tests import torch (mark ml).
"""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone

from coop.errors import Conflict
from mlops.models import ModelVersion, TrainingMetric, TrainingRun
from mlops.services import training
from tests import factories
from tests.conftest import join_queues

from .conftest import FAST_CONFIG, labelled_project, steward_api

pytestmark = pytest.mark.ml
pytest.importorskip("torch")
pytest.importorskip("timm")

REPO = Path(__file__).resolve().parents[2]
# The worker process: this repository's test settings pointed at this test's database; each progress event
# takes 0.15 s there, so the kill lands while it is still training.
CHILD = textwrap.dedent('''
    import os, sys, time
    sys.path.insert(0, sys.argv[1])
    os.environ["DJANGO_SETTINGS_MODULE"] = "tests.settings"
    import tests.settings as s
    s.DATABASES["default"]["NAME"] = sys.argv[2]
    s.DATABASES["default"].pop("TEST", None)
    import django
    django.setup()
    from mlops.services import training
    real = training._Reporter.__call__
    def slow(self, event):
        real(self, event)
        time.sleep(0.15)
    training._Reporter.__call__ = slow
    training.training_run_execute(run_id=int(sys.argv[3]))
''')


def _queued_run(monkeypatch, steward, project, **config):
    """A run started as a steward would, without its job being sent (the test decides who runs it)."""
    monkeypatch.setattr(training, "enqueue_on_commit", lambda actor_name, *ids: None)
    run = training.training_run_start(actor=steward, model_name="recover", projects=[project], config=FAST_CONFIG | config,
                                      snapshot_options={"val_fraction": "0.25", "test_fraction": "0"})
    monkeypatch.undo()
    return run


def _wait_for(predicate, timeout=90, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def test_a_worker_killed_with_sigkill_mid_epoch_is_detected_and_the_run_resumes_from_its_checkpoint(
    dramatiq_worker, organization, monkeypatch
):
    steward = factories.make_steward()
    project = labelled_project(organization, 24)
    run = _queued_run(monkeypatch, steward, project, epochs=6, batch_size=4, log_every_steps=1)
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(REPO), connection.settings_dict["NAME"], str(run.pk)],
                             cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        # Mid-epoch: epoch 1 is checkpointed (checkpoint_every_epochs=1) and some steps of a later epoch are recorded.
        _wait_for(lambda: TrainingMetric.objects.filter(run=run, event="step", epoch__gte=3).exists() or child.poll() is not None,
                  what="the child to train into epoch 3")
        assert child.poll() is None, child.stdout.read().decode()[-3000:]
        running = TrainingRun.objects.get(pk=run.pk)
        assert running.status == "running" and running.worker.endswith(f":{child.pid}") and running.heartbeat_at is not None
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)  # reaped: its pid is gone, as after a real crash
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert child.returncode == -signal.SIGKILL
    dead = TrainingRun.objects.get(pk=run.pk)
    assert dead.status == "running" and training.run_is_stale(dead)  # its process on this host is gone
    points_before = set(TrainingMetric.objects.filter(run=run).values_list("event", "step"))

    assert training.runs_recover_stale() == {"requeued": 1, "failed": 0}  # the scheduler's sweep
    join_queues(timeout_ms=120_000)
    run = _wait_for(lambda: (r := TrainingRun.objects.get(pk=run.pk)).is_finished and r, what="the resumed run")
    assert run.status == "succeeded", run.log
    assert run.attempts == 2 and run.recoveries == 1
    assert "worker lost" in run.log and "resuming from the last checkpoint" in run.log
    points = list(TrainingMetric.objects.filter(run=run).values_list("event", "step"))
    assert len(points) == len(set(points))  # the curve has no duplicate points
    assert list(TrainingMetric.objects.filter(run=run, event="epoch").values_list("epoch", flat=True)) == [1, 2, 3, 4, 5, 6]
    steps = [s for e, s in points if e == "step"]
    assert steps == sorted(steps) and steps == list(range(1, max(steps) + 1))  # every step once, in order
    assert points_before & set(points)  # what the dead worker recorded up to its checkpoint was kept
    assert ModelVersion.objects.get(training_run=run).metrics["epochs_run"] == 6


def test_a_redelivered_message_is_ignored_while_its_worker_lives_and_taken_over_once_it_died(dramatiq_worker, organization, monkeypatch):
    steward = factories.make_steward()
    project = labelled_project(organization, 12)
    run = _queued_run(monkeypatch, steward, project, epochs=2)
    # A live worker (this very process) holds the run: the second delivery does nothing.
    TrainingRun.objects.filter(pk=run.pk).update(status="running", attempts=1, worker=training.worker_identity(),
                                                 heartbeat_at=timezone.now())
    training.training_run_execute(run_id=run.pk)
    again = TrainingRun.objects.get(pk=run.pk)
    assert (again.status, again.attempts) == ("running", 1) and "second delivery of the job was ignored" in again.log
    assert not TrainingMetric.objects.filter(run=run).exists()

    # That worker died (a process of this host that has exited): the broker's redelivery takes the run over.
    gone = subprocess.Popen(["true"])
    gone.wait()
    host = training.worker_identity().rpartition(":")[0]
    TrainingRun.objects.filter(pk=run.pk).update(worker=f"{host}:{gone.pid}")
    from mlops.tasks import train_model

    train_model.send(run.pk)
    join_queues(timeout_ms=120_000)
    run = _wait_for(lambda: (r := TrainingRun.objects.get(pk=run.pk)).is_finished and r, what="the run")
    assert run.status == "succeeded" and run.attempts == 2 and "took over" in run.log, run.log


@pytest.mark.django_db
def test_stale_by_heartbeat_age_for_a_worker_on_another_host(organization, settings):
    settings.MLOPS_RUN_STALE_S = 300
    project = labelled_project(organization, 6)
    run = training.training_run_start(actor=factories.make_steward(), model_name="stale", projects=[project], config=FAST_CONFIG,
                                      snapshot_options={"test_fraction": "0"})
    now = timezone.now()
    TrainingRun.objects.filter(pk=run.pk).update(status="running", worker="gpu-7:1234", heartbeat_at=now - timedelta(seconds=60))
    assert not training.run_is_stale(TrainingRun.objects.get(pk=run.pk))
    assert training.runs_recover_stale() == {"requeued": 0, "failed": 0}
    TrainingRun.objects.filter(pk=run.pk).update(heartbeat_at=now - timedelta(seconds=301))
    assert training.run_is_stale(TrainingRun.objects.get(pk=run.pk))


@pytest.mark.django_db
def test_recoveries_are_bounded_then_the_run_fails_with_the_reason_and_a_steward_resumes_it(organization, settings):
    settings.MLOPS_RUN_MAX_RECOVERIES = 2
    steward = factories.make_steward()
    project = labelled_project(organization, 6)
    run = training.training_run_start(actor=steward, model_name="stale", projects=[project], config=FAST_CONFIG,
                                      snapshot_options={"test_fraction": "0"})
    old = timezone.now() - timedelta(hours=1)
    for expected in ({"requeued": 1, "failed": 0}, {"requeued": 1, "failed": 0}, {"requeued": 0, "failed": 1}):
        TrainingRun.objects.filter(pk=run.pk).update(status="running", worker="gpu-7:1234", heartbeat_at=old)
        assert training.runs_recover_stale() == expected
    run.refresh_from_db()
    assert run.status == "failed" and run.recoveries == 2
    assert "worker lost" in run.status_reason and "after 2 recoveries" in run.status_reason

    api = steward_api(steward)
    member = factories.make_member()
    with pytest.raises(Exception):
        training.training_run_resume(actor=member, run=run)
    response = api.post(f"/api/v1/mlops/runs/{run.pk}/resume/")
    assert response.status_code == 200 and response.json()["status"] == "queued" and response.json()["recoveries"] == 0
    assert api.post(f"/api/v1/mlops/runs/{run.pk}/resume/").status_code == 409  # already queued
    TrainingRun.objects.filter(pk=run.pk).update(status="succeeded")
    with pytest.raises(Conflict):
        training.training_run_resume(actor=steward, run=run)


@pytest.mark.django_db
def test_the_run_page_shows_a_resume_button_to_stewards_for_a_failed_run(client, organization):
    steward = factories.make_steward()
    project = labelled_project(organization, 6)
    run = training.training_run_start(actor=steward, model_name="stale", projects=[project], config=FAST_CONFIG,
                                      snapshot_options={"test_fraction": "0"})
    TrainingRun.objects.filter(pk=run.pk).update(status="failed", status_reason="worker lost")
    client.force_login(steward)
    assert 'data-testid="run-resume"' in client.get(f"/mlops/runs/{run.pk}/").content.decode()
    response = client.post(f"/mlops/runs/{run.pk}/resume/")
    assert response.status_code == 302 and TrainingRun.objects.get(pk=run.pk).status == "queued"
    client.force_login(factories.make_member())
    assert client.post(f"/mlops/runs/{run.pk}/resume/").status_code in (302, 403)
    assert TrainingRun.objects.get(pk=run.pk).status == "queued"


@pytest.mark.django_db
def test_adversarial_a_superseded_worker_stops_and_never_writes_over_the_new_attempt(organization):
    project = labelled_project(organization, 6)
    run = training.training_run_start(actor=factories.make_steward(), model_name="stale", projects=[project], config=FAST_CONFIG,
                                      snapshot_options={"test_fraction": "0"})
    TrainingRun.objects.filter(pk=run.pk).update(status="running", attempts=2, heartbeat_at=timezone.now() - timedelta(hours=1))
    old_attempt = training._Reporter(run.pk, attempt=1)
    old_attempt.last_check = -1e9
    with pytest.raises(training.RunSuperseded):  # stops at once, before the trainer could write a checkpoint
        old_attempt.should_stop()
    assert old_attempt.superseded
    old_attempt({"event": "step", "epoch": 1, "step": 5, "loss": 1.0})
    old_attempt.heartbeat()
    fresh = TrainingRun.objects.get(pk=run.pk)
    assert not TrainingMetric.objects.filter(run=run).exists() and fresh.heartbeat_at < timezone.now() - timedelta(minutes=30)
