"""Training runs: start (steward, API, admin or the auto-trigger), execute on the gpu queue, report progress, cancel.

A run's lifecycle: queued → running → succeeded | failed | cancelled.
`training_run_execute` is what the `train_model` actor calls. It is safe to
call again for the same run (a retry, or a redelivery after a worker died):
a finished run is left alone, and an unfinished one resumes from the last
checkpoint in its `checkpoint_dir` (mlops.ocr checkpoints every few epochs
and on cancellation). Errors that a retry cannot fix (bad data, bad
configuration) fail the run at once; any other error is logged, the run goes
back to "queued", and dramatiq retries it with backoff until `max_retries`,
after which `training_run_fail` marks it failed.

torch is imported only inside `training_run_execute` (the worker), never
when this module is imported.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import socket
import time
from dataclasses import fields as dataclass_fields
from pathlib import Path

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Value
from django.db.models.functions import Concat
from django.utils import timezone

from coop.errors import ApplicationError, Conflict
from coop.jobs import enqueue_on_commit
from coop.models import User
from coop.realtime import group_send, group_send_on_commit
from coop.validation import require_steward
from marketplace.models import Project
from mlops.error_codes import MlopsErrorCode
from mlops.ocr.config import TrainConfig

from .. import cards
from ..models import DatasetSnapshot, Split, TrainingMetric, TrainingRun
from .snapshots import snapshot_create

logger = logging.getLogger(__name__)
S = TrainingRun.Status
MODEL_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,99}$")
# Filled from the snapshot, never from the request.
SNAPSHOT_FIELDS = ("charset", "max_len")
CONFIG_FIELDS = tuple(f.name for f in dataclass_fields(TrainConfig) if f.name not in SNAPSHOT_FIELDS)
METRIC_KEYS = ("loss", "lr", "val_seq_acc", "val_char_acc", "images_per_s", "elapsed_s")


def run_group(run_id: int) -> str:
    """The channel-layer group a run's progress is published to (and its WebSocket joins)."""
    return f"mlops.run.{run_id}"


def publish_run_event(run_id: int, event: dict) -> None:
    """Send a progress or status event to the run's sockets now (the worker is not inside a transaction).

    A channel-layer hiccup is logged, never raised: it must not fail a training run."""
    group_send(run_group(run_id), "run.event", event)


def publish_run_event_on_commit(run_id: int, event: dict) -> None:
    group_send_on_commit(run_group(run_id), "run.event", event)


def runs_dir() -> Path:
    return Path(settings.MLOPS_DIR) / "runs"


def clean_config(config: dict | None, snapshot: DatasetSnapshot) -> dict:
    """The run's full TrainConfig as a dict: settings' defaults, then `config`, then charset/max_len from the snapshot."""
    config = dict(config or {})
    unknown = sorted(set(config) - set(CONFIG_FIELDS))
    if unknown:
        raise ApplicationError(
            f"Unknown training settings: {', '.join(unknown)}.", code=MlopsErrorCode.INVALID_CONFIG, fields={"config": [f"Unknown: {', '.join(unknown)}."]}
        )
    merged = {**settings.MLOPS_TRAIN_DEFAULTS, **config, "charset": snapshot.charset, "max_len": snapshot.max_len}
    try:
        return TrainConfig.from_dict(merged).to_dict()
    except (ValueError, TypeError) as exc:
        raise ApplicationError(f"Invalid training settings: {exc}", code=MlopsErrorCode.INVALID_CONFIG, fields={"config": [str(exc)]}) from None


@transaction.atomic
def training_run_start(
    *,
    actor: User | None,
    model_name: str,
    snapshot: DatasetSnapshot | None = None,
    projects: list[Project] | None = None,
    config: dict | None = None,
    auto_promote: bool = False,
    snapshot_options: dict | None = None,
) -> TrainingRun:
    """Queue a training run on the gpu queue. Stewards only (None: the co-op's own auto-trigger).

    Without `snapshot`, a new one is made from `projects` (default: every OCR
    project) with `snapshot_options` (charset, max_len, seed, fractions). The
    job is sent after commit.
    """
    require_steward(actor, "Only stewards start training runs.", system=True)
    model_name = (model_name or "").strip()
    if not MODEL_NAME.match(model_name):
        raise ApplicationError(
            "A model name is 1 to 100 lower-case letters, digits, '.', '_' or '-'.", fields={"model_name": ["Invalid name."]}
        )
    if snapshot is None:
        snapshot = snapshot_create(actor=actor, name=model_name, projects=projects, **(snapshot_options or {}))
    run_config = clean_config(config, snapshot)  # bad settings are named before an empty split is
    if snapshot.sources.filter(dua__training_summary_required=True).exists():
        try:  # a DUA that requires the public training-content summary blocks training until it can be generated
            cards.public_summary(snapshot)
        except cards.SummaryUnavailable as error:
            raise ApplicationError(f"{error.message} The data-use agreement requires it before training.",
                                   code=MlopsErrorCode.TRAINING_SUMMARY_UNAVAILABLE) from None
    if snapshot.train_count == 0:
        raise ApplicationError("The snapshot has no training labels.", code=MlopsErrorCode.NO_TRAINING_DATA)
    run = TrainingRun.objects.create(
        model_name=model_name, snapshot=snapshot, config=run_config, auto_promote=auto_promote, created_by=actor,
    )
    run.checkpoint_dir = str(runs_dir() / str(run.pk))
    run.log = f"{timezone.now():%Y-%m-%d %H:%M:%S} queued by {actor or 'the co-op'} on snapshot {snapshot.pk}\n"
    run.save(update_fields=["checkpoint_dir", "log"])
    enqueue_on_commit("train_model", run.pk)
    return run


def _append_log(run_id: int, line: str) -> None:
    TrainingRun.objects.filter(pk=run_id).update(log=Concat("log", Value(f"{timezone.now():%Y-%m-%d %H:%M:%S} {line}\n")))


def _status_event(run: TrainingRun) -> dict:
    return {"kind": "status", "run": run.pk, "status": run.status, "reason": run.status_reason, "device": run.device}


@transaction.atomic
def training_run_cancel(*, actor: User | None, run: TrainingRun) -> TrainingRun:
    """Cancel a run: a queued run is cancelled at once; a running one stops at its next step (after a checkpoint)."""
    require_steward(actor, "Only stewards cancel training runs.", system=True)
    run = TrainingRun.objects.select_for_update().get(pk=run.pk)
    if run.is_finished:
        raise Conflict(f"The run has already {run.status}.", code=MlopsErrorCode.RUN_FINISHED)
    if run.status == S.QUEUED:
        run.status, run.status_reason, run.finished_at = S.CANCELLED, f"cancelled by {actor or 'the co-op'} before it started", timezone.now()
        run.save(update_fields=["status", "status_reason", "finished_at", "updated_at"])
    run.cancel_requested = True
    run.save(update_fields=["cancel_requested", "updated_at"])
    _append_log(run.pk, f"cancel requested by {actor or 'the co-op'}")
    event = _status_event(run) | {"cancel_requested": True}
    publish_run_event_on_commit(run.pk, event)
    return run


def training_run_fail(*, run_id: int, reason: str) -> None:
    """Mark an unfinished run failed (retries exhausted, or an error no retry can fix). Idempotent."""
    with transaction.atomic():
        run = TrainingRun.objects.select_for_update().get(pk=run_id)
        if run.is_finished:
            return
        run.status, run.status_reason, run.finished_at = S.FAILED, reason[:300], timezone.now()
        run.save(update_fields=["status", "status_reason", "finished_at", "updated_at"])
    _append_log(run_id, f"failed: {reason}")
    publish_run_event(run_id, _status_event(run))


def worker_identity() -> str:
    """host:pid of this process: lets a redelivered message tell a dead worker on this host from a live one."""
    return f"{socket.gethostname()}:{os.getpid()}"[:200]


def _worker_alive(worker: str) -> bool | None:
    """True/False for a worker process on this host; None when it runs elsewhere (only its heartbeat can tell)."""
    host, _, pid = worker.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return None
    if int(pid) == os.getpid():
        return True
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def run_is_stale(run: TrainingRun, now=None) -> bool:
    """A running run whose worker is gone: no heartbeat for MLOPS_RUN_STALE_S, or its process on this host has exited."""
    if run.status != S.RUNNING:
        return False
    now = now or timezone.now()
    last = run.heartbeat_at or run.updated_at
    if last is None or (now - last).total_seconds() >= settings.MLOPS_RUN_STALE_S:
        return True
    return _worker_alive(run.worker) is False if run.worker else False


def _begin_attempt(run_id: int) -> TrainingRun | None:
    """Mark the run running for a new attempt; None when there is nothing to do.

    Nothing to do: the run finished or was cancelled, or it is running under a
    live worker (a redelivered or duplicate message: the worker that has it keeps
    it). A running run whose worker died is taken over, resuming from the last
    checkpoint. Locks the run row.
    """
    with transaction.atomic():
        run = TrainingRun.objects.select_for_update(of=("self",)).select_related("snapshot").get(pk=run_id)
        if run.is_finished:
            return None
        if run.cancel_requested:
            run.status, run.status_reason, run.finished_at = S.CANCELLED, "cancelled before training resumed", timezone.now()
            run.save(update_fields=["status", "status_reason", "finished_at", "updated_at"])
            publish_run_event(run.pk, _status_event(run))
            return None
        taken_over = ""
        if run.status == S.RUNNING:
            if not run_is_stale(run):
                _append_log(run.pk, f"a second delivery of the job was ignored: {run.worker or 'a worker'} is training it")
                return None
            taken_over = f" (took over from {run.worker or 'a worker'}, which stopped responding)"
        run.status, run.status_reason = S.RUNNING, ""
        run.attempts += 1
        run.started_at = run.started_at or timezone.now()
        run.heartbeat_at, run.worker = timezone.now(), worker_identity()
        run.save(update_fields=["status", "status_reason", "attempts", "started_at", "heartbeat_at", "worker", "updated_at"])
    resuming = (Path(run.checkpoint_dir) / "train_state.pt").exists()
    _append_log(run.pk, f"attempt {run.attempts} started on {run.worker}{taken_over}"
                        + (" (resuming from the last checkpoint)" if resuming else ""))
    return run


def _image_input(name: str):
    try:
        return default_storage.path(name)
    except NotImplementedError:  # a remote storage: hand the trainer the bytes
        with default_storage.open(name, "rb") as handle:
            return handle.read()


def snapshot_samples(snapshot: DatasetSnapshot) -> dict[str, list[tuple[object, str]]]:
    """(image, text) pairs per split, in item order."""
    out: dict[str, list] = {Split.TRAIN: [], Split.VAL: [], Split.TEST: []}
    for image, text, split in snapshot.items.order_by("pk").values_list("image", "text", "split").iterator(chunk_size=5000):
        out[split].append((_image_input(image), text))
    return out


class RunSuperseded(Exception):
    """Raised from should_stop when another worker took the run over: the trainer stops at once, writing no checkpoint."""


class _Reporter:
    """Progress callback, heartbeat and cheap cancellation check for one attempt.

    `should_stop` is polled before every step; at most once per
    MLOPS_CANCEL_POLL_SECONDS it reads the run (cancel flag, attempt number)
    and at most once per MLOPS_RUN_HEARTBEAT_S it writes the heartbeat. It
    stops the attempt when a steward cancelled the run (returns True: the
    trainer checkpoints and raises TrainingCancelled) or when another worker
    took it over (raises RunSuperseded: the trainer stops without writing to
    the checkpoint directory, which the new attempt owns).
    """

    def __init__(self, run_id: int, attempt: int | None = None):
        self.run_id = run_id
        self.attempt = attempt
        self.last_check = 0.0
        self.last_beat = time.monotonic()
        self.cancel = False
        self.superseded = False

    def heartbeat(self, **fields) -> None:
        self.last_beat = time.monotonic()
        runs = TrainingRun.objects.filter(pk=self.run_id)
        if self.attempt is not None:  # a superseded attempt never writes over the one that took the run over
            runs = runs.filter(attempts=self.attempt, status=S.RUNNING)
        runs.update(heartbeat_at=timezone.now(), updated_at=timezone.now(), **fields)

    def should_stop(self) -> bool:
        now = time.monotonic()
        if now - self.last_beat >= settings.MLOPS_RUN_HEARTBEAT_S:
            self.heartbeat()
        if now - self.last_check >= settings.MLOPS_CANCEL_POLL_SECONDS:
            self.last_check = now
            row = TrainingRun.objects.filter(pk=self.run_id).values("cancel_requested", "attempts", "status").first() or {}
            self.cancel = bool(row.get("cancel_requested"))
            self.superseded = self.attempt is not None and (row.get("attempts") != self.attempt or row.get("status") != S.RUNNING)
        if self.superseded:
            # Raised rather than returned: a cancelled trainer writes a checkpoint, and the directory is no longer ours.
            raise RunSuperseded(f"run {self.run_id} was taken over by another worker")
        return self.cancel

    def __call__(self, event: dict) -> None:
        if self.superseded:
            return
        step = int(event.get("step") or 0)
        kind = str(event.get("event", "step"))[:8]
        if kind == "start":
            # A resumed attempt replays from its checkpoint: drop what an interrupted attempt recorded after it.
            TrainingMetric.objects.filter(run_id=self.run_id, step__gt=step).delete()
            if step == 0:
                TrainingMetric.objects.filter(run_id=self.run_id).delete()
            self.heartbeat()
            return
        values = {key: (float(event[key]) if event.get(key) is not None else None) for key in METRIC_KEYS}
        # One point per (event, step), enforced by the database: a replayed step replaces its point.
        TrainingMetric.objects.update_or_create(run_id=self.run_id, event=kind, step=step,
                                                defaults={"epoch": int(event.get("epoch") or 0), **values})
        progress = {key: event.get(key) for key in ("event", "epoch", "epochs", "step", "total_steps", "best_val_seq_acc", *METRIC_KEYS)}
        self.heartbeat(progress=progress)
        publish_run_event(self.run_id, {"kind": "progress", "run": self.run_id, **progress})


def _device_name(device: str) -> str:
    import torch

    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda" and torch.cuda.is_available():
        return f"cuda ({torch.cuda.get_device_name(0)})"
    return device


def training_run_execute(*, run_id: int) -> None:
    """Train (or resume) a run and register its model. Called by the `train_model` actor; see the module docstring."""
    run = _begin_attempt(run_id)
    if run is None:
        return
    import mlops.ocr as ocr  # torch and timm load here, in the worker only

    config = TrainConfig.from_dict(run.config)
    device = _device_name(config.device)
    TrainingRun.objects.filter(pk=run.pk).update(device=device)
    publish_run_event(run.pk, {"kind": "status", "run": run.pk, "status": S.RUNNING, "reason": "", "device": device})
    samples = snapshot_samples(run.snapshot)
    reporter = _Reporter(run.pk, run.attempts)
    reporter.heartbeat()  # reading the images may take a while
    try:
        result = ocr.train(
            config, samples[Split.TRAIN], samples[Split.VAL], run.checkpoint_dir, resume=True,
            progress_callback=reporter, should_stop=reporter.should_stop,
        )
    except RunSuperseded:
        _append_log(run.pk, f"attempt {run.attempts} on {worker_identity()} stopped: another worker took the run over")
        return
    except ocr.TrainingCancelled as exc:
        with transaction.atomic():
            locked = TrainingRun.objects.select_for_update().get(pk=run.pk)
            locked.status, locked.finished_at = S.CANCELLED, timezone.now()
            locked.status_reason = f"cancelled at epoch {exc.epoch}, step {exc.step} (checkpoint kept)"
            locked.save(update_fields=["status", "status_reason", "finished_at", "updated_at"])
        _append_log(run.pk, locked.status_reason)
        publish_run_event(run.pk, _status_event(locked))
        return
    except (ValueError, TypeError) as exc:  # the data or configuration is unusable: a retry would fail the same way
        training_run_fail(run_id=run.pk, reason=f"{type(exc).__name__}: {exc}")
        return
    except BaseException as exc:  # anything else (including dramatiq's time limit): retried, resuming from the checkpoint
        _append_log(run.pk, f"attempt {run.attempts} interrupted: {type(exc).__name__}: {exc}; a retry resumes from the last checkpoint")
        TrainingRun.objects.filter(pk=run.pk, status=S.RUNNING, attempts=run.attempts).update(
            status=S.QUEUED, status_reason=f"interrupted ({type(exc).__name__}); waiting for a retry"[:300], updated_at=timezone.now()
        )
        publish_run_event(run.pk, {"kind": "status", "run": run.pk, "status": S.QUEUED, "reason": "interrupted; retrying", "device": device})
        raise

    metrics = {
        **{k: v for k, v in result.metrics.items() if k != "val_confusion_pairs"},
        "val_confusion_pairs": (result.metrics.get("val_confusion_pairs") or [])[:10],
        "epochs_run": result.epochs_run, "best_epoch": result.best_epoch, "stopped_early": result.stopped_early,
        "train_n": len(samples[Split.TRAIN]), "val_n": len(samples[Split.VAL]), "test_n": len(samples[Split.TEST]),
        "img_height": result.img_height, "img_width": result.img_width,
    }
    if samples[Split.TEST]:
        model = ocr.load_model(result.model_dir, device="cpu")
        report = ocr.evaluate(model, samples[Split.TEST], batch_size=config.batch_size)
        metrics.update(test_seq_acc=report["seq_acc"], test_char_acc=report["char_acc"], test_confusion_pairs=report["confusion_pairs"][:10],
                       test_split_hash=test_split_hash(run.snapshot))
        baseline = _score_promoted(run.model_name, samples[Split.TEST], config.batch_size)
        if baseline is not None:
            metrics["baseline"] = baseline
    from .registry import model_version_register

    version = model_version_register(run=run, model_dir=result.model_dir, metrics=metrics, backbone=config.backbone)
    with transaction.atomic():
        locked = TrainingRun.objects.select_for_update().get(pk=run.pk)
        locked.status, locked.status_reason, locked.finished_at = S.SUCCEEDED, f"registered {version}", timezone.now()
        locked.metrics, locked.train_seconds = metrics, result.wall_time_s
        locked.save(update_fields=["status", "status_reason", "finished_at", "metrics", "train_seconds", "updated_at"])
    _append_log(run.pk, f"succeeded in {result.wall_time_s:.1f} s of training: {version} "
                        f"(val seq acc {metrics.get('val_seq_acc')}, test seq acc {metrics.get('test_seq_acc')})")
    publish_run_event(run.pk, _status_event(locked) | {"metrics": metrics, "model_version": version.pk})
    if run.auto_promote:
        from .registry import model_version_promote

        try:
            model_version_promote(actor=None, model_version=version)
        except ApplicationError as error:  # the gate refused: the model stays registered, not promoted
            _append_log(run.pk, f"not promoted: {error.message}")
        else:
            _append_log(run.pk, f"promoted {version}")


def test_split_hash(snapshot: DatasetSnapshot) -> str:
    """Identity of a snapshot's test split (its labels): two versions' test accuracies compare only on the same one."""
    digest = hashlib.sha256()
    for label_id in snapshot.items.filter(split=Split.TEST).order_by("label_id").values_list("label_id", flat=True).iterator():
        digest.update(f"{label_id},".encode())
    return digest.hexdigest()


def _score_promoted(model_name: str, test_samples: list, batch_size: int) -> dict | None:
    """The promoted version of `model_name` scored on this run's test split: the no-regression gate's baseline."""
    import mlops.ocr as ocr

    from ..models import ModelVersion

    current = ModelVersion.objects.filter(name=model_name, promoted=True).first()
    if current is None:
        return None
    try:
        model = ocr.load_model(current.artifact_path, device="cpu")
        report = ocr.evaluate(model, test_samples, batch_size=batch_size)
    except Exception as exc:  # a missing or unreadable artifact: no baseline, so the gate asks a steward
        logger.warning("Could not score %s on the new test split: %s", current, exc)
        return None
    return {"model_version": current.pk, "version": current.version, "test_seq_acc": report["seq_acc"], "test_char_acc": report["char_acc"]}


@transaction.atomic
def training_run_resume(*, actor: User | None, run: TrainingRun) -> TrainingRun:
    """Queue a failed, cancelled or stale (worker died) run again; it resumes from its last checkpoint. Stewards only.

    The recovery budget starts afresh (a steward decided to spend it). Locks the run row.
    """
    require_steward(actor, "Only stewards resume training runs.", system=True)
    run = TrainingRun.objects.select_for_update().get(pk=run.pk)
    if run.status == S.SUCCEEDED:
        raise Conflict("The run has already succeeded.", code=MlopsErrorCode.RUN_FINISHED)
    if run.status == S.QUEUED or (run.status == S.RUNNING and not run_is_stale(run)):
        raise Conflict("The run is already queued or running.", code=MlopsErrorCode.RUN_ACTIVE)
    previous = run.status
    run.status, run.status_reason, run.finished_at, run.cancel_requested, run.recoveries = (
        S.QUEUED, f"resumed by {actor or 'the co-op'}", None, False, 0)
    run.save(update_fields=["status", "status_reason", "finished_at", "cancel_requested", "recoveries", "updated_at"])
    _append_log(run.pk, f"resumed by {actor or 'the co-op'} (was {previous}); continues from the last checkpoint")
    event = _status_event(run)
    publish_run_event_on_commit(run.pk, event)
    enqueue_on_commit("train_model", run.pk)
    return run


def runs_recover_stale(*, now=None) -> dict:
    """The scheduler's sweep: re-enqueue running runs whose worker died, or fail them once recoveries run out. Idempotent.

    A run is stale when it has sent no heartbeat for MLOPS_RUN_STALE_S (or its
    worker process on this host has exited). It goes back to "queued" and a new
    job resumes it from its last checkpoint, at most MLOPS_RUN_MAX_RECOVERIES
    times; after that it fails with the reason. Each run is locked with SKIP
    LOCKED, so two schedulers never recover one run twice.
    """
    now = now or timezone.now()
    requeued = failed = 0
    for pk in TrainingRun.objects.filter(status=S.RUNNING).order_by("pk").values_list("pk", flat=True):
        with transaction.atomic():
            run = TrainingRun.objects.select_for_update(skip_locked=True).filter(pk=pk, status=S.RUNNING).first()
            if run is None or not run_is_stale(run, now):
                continue
            last = run.heartbeat_at or run.updated_at
            silent = f"no heartbeat from {run.worker or 'its worker'} since {last:%Y-%m-%d %H:%M:%S}"
            if run.recoveries >= settings.MLOPS_RUN_MAX_RECOVERIES:
                run.status, run.finished_at = S.FAILED, now
                run.status_reason = f"worker lost ({silent}) after {run.recoveries} recoveries; a steward can resume it"[:300]
                run.save(update_fields=["status", "status_reason", "finished_at", "updated_at"])
                failed += 1
            else:
                run.status, run.recoveries = S.QUEUED, run.recoveries + 1
                run.status_reason = f"worker lost ({silent}); re-enqueued to resume from the last checkpoint"[:300]
                run.save(update_fields=["status", "status_reason", "recoveries", "updated_at"])
                requeued += 1
                enqueue_on_commit("train_model", run.pk)
            _append_log(run.pk, run.status_reason)
            publish_run_event_on_commit(run.pk, _status_event(run))
    return {"requeued": requeued, "failed": failed}
