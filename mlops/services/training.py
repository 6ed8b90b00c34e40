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

import logging
import re
import time
from dataclasses import fields as dataclass_fields
from pathlib import Path

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Value
from django.db.models.functions import Concat
from django.utils import timezone

from coop.errors import ApplicationError, Conflict
from coop.models import User
from coop.services.membership import require_steward
from marketplace.models import Project
from mlops.ocr.config import TrainConfig

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
    """Send a progress or status event to the run's sockets now (the worker is not inside a transaction)."""
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        async_to_sync(layer.group_send)(run_group(run_id), {"type": "run.event", "event": event})
    except Exception:  # a channel-layer hiccup must never fail a training run
        logger.warning("Could not publish progress of run %s", run_id, exc_info=True)


def runs_dir() -> Path:
    return Path(settings.MLOPS_DIR) / "runs"


def clean_config(config: dict | None, snapshot: DatasetSnapshot) -> dict:
    """The run's full TrainConfig as a dict: settings' defaults, then `config`, then charset/max_len from the snapshot."""
    config = dict(config or {})
    unknown = sorted(set(config) - set(CONFIG_FIELDS))
    if unknown:
        raise ApplicationError(
            f"Unknown training settings: {', '.join(unknown)}.", code="invalid_config", fields={"config": [f"Unknown: {', '.join(unknown)}."]}
        )
    merged = {**settings.MLOPS_TRAIN_DEFAULTS, **config, "charset": snapshot.charset, "max_len": snapshot.max_len}
    try:
        return TrainConfig.from_dict(merged).to_dict()
    except (ValueError, TypeError) as exc:
        raise ApplicationError(f"Invalid training settings: {exc}", code="invalid_config", fields={"config": [str(exc)]}) from None


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
    require_steward(actor, "Only stewards start training runs.")
    model_name = (model_name or "").strip()
    if not MODEL_NAME.match(model_name):
        raise ApplicationError(
            "A model name is 1 to 100 lower-case letters, digits, '.', '_' or '-'.", fields={"model_name": ["Invalid name."]}
        )
    if snapshot is None:
        snapshot = snapshot_create(actor=actor, name=model_name, projects=projects, **(snapshot_options or {}))
    run_config = clean_config(config, snapshot)  # bad settings are named before an empty split is
    if snapshot.train_count == 0:
        raise ApplicationError("The snapshot has no training labels.", code="no_training_data")
    run = TrainingRun.objects.create(
        model_name=model_name, snapshot=snapshot, config=run_config, auto_promote=auto_promote, created_by=actor,
    )
    run.checkpoint_dir = str(runs_dir() / str(run.pk))
    run.log = f"{timezone.now():%Y-%m-%d %H:%M:%S} queued by {actor or 'the co-op'} on snapshot {snapshot.pk}\n"
    run.save(update_fields=["checkpoint_dir", "log"])
    transaction.on_commit(lambda: _enqueue(run.pk))
    return run


def _enqueue(run_id: int) -> None:
    from ..tasks import train_model

    train_model.send(run_id)


def _append_log(run_id: int, line: str) -> None:
    TrainingRun.objects.filter(pk=run_id).update(log=Concat("log", Value(f"{timezone.now():%Y-%m-%d %H:%M:%S} {line}\n")))


def _status_event(run: TrainingRun) -> dict:
    return {"kind": "status", "run": run.pk, "status": run.status, "reason": run.status_reason, "device": run.device}


@transaction.atomic
def training_run_cancel(*, actor: User | None, run: TrainingRun) -> TrainingRun:
    """Cancel a run: a queued run is cancelled at once; a running one stops at its next step (after a checkpoint)."""
    require_steward(actor, "Only stewards cancel training runs.")
    run = TrainingRun.objects.select_for_update().get(pk=run.pk)
    if run.is_finished:
        raise Conflict(f"The run has already {run.status}.", code="run_finished")
    if run.status == S.QUEUED:
        run.status, run.status_reason, run.finished_at = S.CANCELLED, f"cancelled by {actor or 'the co-op'} before it started", timezone.now()
        run.save(update_fields=["status", "status_reason", "finished_at", "updated_at"])
    run.cancel_requested = True
    run.save(update_fields=["cancel_requested", "updated_at"])
    _append_log(run.pk, f"cancel requested by {actor or 'the co-op'}")
    event = _status_event(run) | {"cancel_requested": True}
    transaction.on_commit(lambda: publish_run_event(run.pk, event))
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


def _begin_attempt(run_id: int) -> TrainingRun | None:
    """Mark the run running for a new attempt; None when there is nothing to do (finished or cancelled)."""
    with transaction.atomic():
        run = TrainingRun.objects.select_for_update().select_related("snapshot").get(pk=run_id)
        if run.is_finished:
            return None
        if run.cancel_requested:
            run.status, run.status_reason, run.finished_at = S.CANCELLED, "cancelled before training resumed", timezone.now()
            run.save(update_fields=["status", "status_reason", "finished_at", "updated_at"])
            publish_run_event(run.pk, _status_event(run))
            return None
        run.status, run.status_reason = S.RUNNING, ""
        run.attempts += 1
        run.started_at = run.started_at or timezone.now()
        run.save(update_fields=["status", "status_reason", "attempts", "started_at", "updated_at"])
    resuming = (Path(run.checkpoint_dir) / "train_state.pt").exists()
    _append_log(run.pk, f"attempt {run.attempts} started" + (" (resuming from the last checkpoint)" if resuming else ""))
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


class _Reporter:
    """Progress callback and cheap cancellation check for one attempt."""

    def __init__(self, run_id: int):
        self.run_id = run_id
        self.first = True
        self.last_check = 0.0
        self.cancel = False

    def should_stop(self) -> bool:
        now = time.monotonic()
        if now - self.last_check >= settings.MLOPS_CANCEL_POLL_SECONDS:
            self.last_check = now
            self.cancel = TrainingRun.objects.filter(pk=self.run_id, cancel_requested=True).exists()
        return self.cancel

    def __call__(self, event: dict) -> None:
        step = int(event.get("step") or 0)
        if self.first:
            # A resumed attempt replays from its checkpoint: drop points the interrupted attempt recorded after it.
            TrainingMetric.objects.filter(run_id=self.run_id, step__gte=step).delete()
            self.first = False
        TrainingMetric.objects.create(
            run_id=self.run_id, event=event.get("event", "step")[:8], epoch=int(event.get("epoch") or 0), step=step,
            **{key: (float(event[key]) if event.get(key) is not None else None) for key in METRIC_KEYS},
        )
        progress = {key: event.get(key) for key in ("event", "epoch", "epochs", "step", "total_steps", "best_val_seq_acc", *METRIC_KEYS)}
        TrainingRun.objects.filter(pk=self.run_id).update(progress=progress, updated_at=timezone.now())
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
    reporter = _Reporter(run.pk)
    try:
        result = ocr.train(
            config, samples[Split.TRAIN], samples[Split.VAL], run.checkpoint_dir, resume=True,
            progress_callback=reporter, should_stop=reporter.should_stop,
        )
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
        TrainingRun.objects.filter(pk=run.pk, status=S.RUNNING).update(
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
        metrics.update(test_seq_acc=report["seq_acc"], test_char_acc=report["char_acc"], test_confusion_pairs=report["confusion_pairs"][:10])
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

        model_version_promote(actor=None, model_version=version)
