"""The training loop: deterministic, resumable, cancellable."""

from __future__ import annotations

import hashlib
import json
import math
import os
import random
import time
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np
import torch
from timm.utils import adaptive_clip_grad

from . import checkpoint as ckpt
from .augment import augment_batch
from .config import (
    LAST_WEIGHTS_FILENAME,
    META_FILENAME,
    STATE_FILENAME,
    WEIGHTS_FILENAME,
    TrainConfig,
    TrainingCancelled,
    TrainResult,
)
from .images import ImageInput, encode_texts, load_images, normalize, resolve_params
from .inference import autocast_context, decode_probs, predict_proba, resolve_device
from .metrics import text_metrics
from .model import build_model, is_norm_free, param_groups, sequence_loss

ProgressCallback = Callable[[dict[str, Any]], None]

# Fields that do not change the numbers a run produces; a checkpoint written
# under different values of these can still be resumed.
_RESUME_NEUTRAL = ("device", "num_workers", "log_every_steps", "checkpoint_every_epochs")
# Keep the uint8 training set on the GPU below this size: indexing there is
# much faster than a host-to-device copy per batch.
_GPU_CACHE_BYTES = 2 << 30


def _fingerprint(cfg: TrainConfig, images: Sequence[torch.Tensor], texts: Sequence[Sequence[str]]) -> str:
    """Identity of a run: config (minus resume-neutral fields), labels and decoded pixels."""
    h = hashlib.sha256()
    cfg_dict = {k: v for k, v in cfg.to_dict().items() if k not in _RESUME_NEUTRAL}
    h.update(json.dumps(cfg_dict, sort_keys=True).encode())
    h.update(json.dumps([list(t) for t in texts]).encode())
    for x in images:
        h.update(x.numpy().tobytes())
    return h.hexdigest()


def _seed_everything(seed: int, deterministic: bool) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    if deterministic:
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
        torch.use_deterministic_algorithms(True, warn_only=True)
        torch.backends.cudnn.benchmark = False
    elif torch.cuda.is_available():
        torch.backends.cudnn.benchmark = True  # fixed input size: let cuDNN pick the fastest kernels


def _make_optimizer(cfg: TrainConfig, model: torch.nn.Module) -> torch.optim.Optimizer:
    groups = param_groups(model, cfg.weight_decay)
    if cfg.optimizer == "sgd":
        return torch.optim.SGD(groups, lr=cfg.lr, momentum=cfg.momentum, nesterov=True)
    return torch.optim.AdamW(groups, lr=cfg.lr, betas=(0.9, 0.999))


def _lr_lambda(warmup: int, total: int, min_ratio: float) -> Callable[[int], float]:
    """Linear warm-up to 1, then cosine decay to ``min_ratio`` (factor on the base lr)."""
    def fn(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        progress = min(1.0, (step - warmup) / max(1, total - warmup))
        return min_ratio + (1.0 - min_ratio) * 0.5 * (1.0 + math.cos(math.pi * progress))
    return fn


def _epoch_permutation(seed: int, epoch: int, n: int) -> torch.Tensor:
    # Derived from (seed, epoch) alone, so a resumed run replays the same order.
    return torch.randperm(n, generator=torch.Generator().manual_seed(seed * 7919 + epoch))


def _step_generator(seed: int, global_step: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed * 1_000_003 + global_step + 1)


def _validate(model, x_val, y_val, val_texts, cfg, charset) -> dict[str, Any]:
    probs = predict_proba(model, x_val, batch_size=max(128, cfg.batch_size), bf16=cfg.bf16,
                          channels_last=cfg.channels_last)
    preds = [r["text"] for r in decode_probs(probs, charset)]
    m = text_metrics(val_texts, preds, top_k=10)
    # Cross-entropy of the true classes (no smoothing): the last tie-break between epochs.
    picked = probs.gather(-1, y_val.unsqueeze(-1)).clamp_min(1e-12)
    return {"val_seq_acc": m["seq_acc"], "val_char_acc": m["char_acc"], "val_loss": float(-picked.log().mean()),
            "val_confusion_pairs": m["confusion_pairs"]}


def _score(record: dict[str, Any]) -> tuple[float, float, float]:
    """Ordering of validation results: sequence accuracy, then character accuracy, then lower loss.

    A run stuck at 0 % sequence accuracy still keeps the epoch that reads the
    most characters right, not the first epoch.
    """
    loss = record.get("val_loss")
    return (record.get("val_seq_acc", -1.0), record.get("val_char_acc", -1.0),
            -loss if loss is not None else -math.inf)


def train(
    config: TrainConfig,
    train_samples: Sequence[tuple[ImageInput, str]],
    val_samples: Sequence[tuple[ImageInput, str]],
    out_dir: str | os.PathLike,
    *,
    resume: bool = True,
    progress_callback: ProgressCallback | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> TrainResult:
    """Train an OCR model and write it to ``out_dir``.

    ``train_samples``/``val_samples`` are ``(image, text)`` pairs where image
    is a path, bytes, a PIL image or a uint8 array.  ``None`` fields of the
    config (input size, charset, max_len) are inferred from the data.

    ``progress_callback`` gets ``event="start"`` once (``step`` = the step it
    starts or resumes from), a dict every ``log_every_steps`` steps
    (``event="step"``) and after each epoch (``event="epoch"``, with
    validation metrics); keys: event, epoch, epochs, step, total_steps, loss,
    lr, images_per_s, val_seq_acc, val_char_acc, best_val_seq_acc, elapsed_s.

    ``should_stop`` is called before every step; when it returns True a
    resumable checkpoint is written and :class:`TrainingCancelled` is raised.
    It should be cheap (throttle database checks on the caller's side).

    With ``resume=True`` a checkpoint in ``out_dir`` written by the same
    config and data is continued (bit-identical to an uninterrupted run on the
    same device with deterministic settings); an incompatible one is ignored
    and overwritten.  Returns a :class:`TrainResult`; ``wall_time_s`` counts
    every resumed segment.
    """
    # Deterministic mode and cuDNN autotuning are process-wide switches: restore
    # them so one job's settings do not leak into the next one in a worker.
    saved_flags = (torch.are_deterministic_algorithms_enabled(),
                   torch.is_deterministic_algorithms_warn_only_enabled(), torch.backends.cudnn.benchmark)
    try:
        return _train(config, train_samples, val_samples, out_dir, resume=resume,
                      progress_callback=progress_callback, should_stop=should_stop)
    finally:
        torch.use_deterministic_algorithms(saved_flags[0], warn_only=saved_flags[1])
        torch.backends.cudnn.benchmark = saved_flags[2]


def _train(
    config: TrainConfig,
    train_samples: Sequence[tuple[ImageInput, str]],
    val_samples: Sequence[tuple[ImageInput, str]],
    out_dir: str | os.PathLike,
    *,
    resume: bool = True,
    progress_callback: ProgressCallback | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> TrainResult:
    t_begin = time.perf_counter()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    config.validate()
    device = resolve_device(config.device)
    train_samples, val_samples = list(train_samples), list(val_samples)
    if not train_samples:
        raise ValueError("no training samples")
    params = resolve_params(config, train_samples + val_samples)
    cfg = config.replace(**params)
    charset, max_len, h, w = cfg.charset, cfg.max_len, cfg.img_height, cfg.img_width
    _seed_everything(cfg.seed, cfg.deterministic)

    train_texts = [t for _, t in train_samples]
    val_texts = [t for _, t in val_samples]
    x_train = load_images([s for s, _ in train_samples], h, w, cfg.in_chans, cfg.num_workers)
    y_train = encode_texts(train_texts, charset, max_len)
    x_val = load_images([s for s, _ in val_samples], h, w, cfg.in_chans, cfg.num_workers)
    y_val = encode_texts(val_texts, charset, max_len)
    fingerprint = _fingerprint(cfg, [x_train, x_val], [train_texts, val_texts])
    if device.type == "cuda" and x_train.numel() <= _GPU_CACHE_BYTES:
        x_train, y_train = x_train.to(device), y_train.to(device)

    model = build_model(cfg, charset, max_len, h, w).to(device)
    if cfg.channels_last and device.type == "cuda":
        model = model.to(memory_format=torch.channels_last)
    backbone_params = list(model.backbone.parameters())
    use_agc = cfg.agc_clip > 0 and is_norm_free(cfg.backbone)
    optimizer = _make_optimizer(cfg, model)
    n = x_train.shape[0]
    # Drop the ragged last batch (a batch of one breaks BatchNorm backbones) unless it is the only one.
    steps_per_epoch = max(1, n // cfg.batch_size)
    batch = min(cfg.batch_size, n)
    total_steps = cfg.epochs * steps_per_epoch
    warmup = cfg.warmup_steps if cfg.warmup_steps is not None else round(cfg.warmup_epochs * steps_per_epoch)
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, _lr_lambda(max(1, warmup), total_steps, cfg.min_lr_ratio))

    st: dict[str, Any] = {
        "fingerprint": fingerprint, "epoch": 0, "step_in_epoch": 0, "global_step": 0,
        "loss_sum": 0.0, "loss_count": 0, "best": {}, "best_epoch": 0, "history": [],
        "done": False, "stopped_early": False, "elapsed_s": 0.0,
    }
    saved = ckpt.load_state(ckpt.state_path(out)) if resume else None
    if saved is not None and saved.get("fingerprint") == fingerprint and (out / LAST_WEIGHTS_FILENAME).exists():
        ckpt.load_weights(model, out / LAST_WEIGHTS_FILENAME)
        optimizer.load_state_dict(saved.pop("optimizer"))
        scheduler.load_state_dict(saved.pop("scheduler"))
        ckpt.set_rng_state(saved.pop("rng"))
        st.update(saved)
    else:  # fresh start: never leave another run's weights next to this run's sidecar
        for name in (WEIGHTS_FILENAME, LAST_WEIGHTS_FILENAME, STATE_FILENAME):
            (out / name).unlink(missing_ok=True)
    # Summing the loss on the device avoids a GPU sync per step; flushed at log points.
    pending_loss = torch.zeros((), device=device)

    def flush_loss() -> None:
        nonlocal pending_loss
        st["loss_sum"] += float(pending_loss)
        pending_loss = torch.zeros((), device=device)

    def elapsed() -> float:
        return st["elapsed_s"] + time.perf_counter() - t_begin

    # Best weights wait in host memory until the next checkpoint, so that an
    # improving validation score does not cost a disk write every epoch, and
    # model.safetensors on disk always matches the "best" recorded in the state.
    best_weights: dict[str, torch.Tensor] | None = None

    def save() -> None:
        nonlocal best_weights
        flush_loss()
        if best_weights is not None:
            ckpt.save_tensors(best_weights, out / WEIGHTS_FILENAME)
            best_weights = None
        ckpt.save_weights(model, out / LAST_WEIGHTS_FILENAME)
        state = dict(st, elapsed_s=elapsed(), optimizer=optimizer.state_dict(),
                     scheduler=scheduler.state_dict(), rng=ckpt.rng_state())
        ckpt.save_state(ckpt.state_path(out), state)
        ckpt.write_metadata(out, cfg.to_dict(), params, st["best"])

    def emit(event: dict[str, Any]) -> None:
        if progress_callback is not None:
            progress_callback(event)

    # Where this segment starts: a resumed run replays from its checkpoint, so a caller that records progress
    # drops what an interrupted segment reported after it.
    emit({"event": "start", "epoch": st["epoch"], "epochs": cfg.epochs, "step": st["global_step"],
          "total_steps": total_steps, "resumed": st["global_step"] > 0 or st["epoch"] > 0, "elapsed_s": elapsed()})
    window_t, window_imgs = time.perf_counter(), 0
    while not st["done"] and st["epoch"] < cfg.epochs:
        epoch = st["epoch"]
        perm = _epoch_permutation(cfg.seed, epoch, n)
        epoch_t0, epoch_imgs = time.perf_counter(), 0
        model.train()
        for step in range(st["step_in_epoch"], steps_per_epoch):
            if should_stop is not None and should_stop():
                st["step_in_epoch"] = step
                save()
                raise TrainingCancelled(f"training cancelled at epoch {epoch + 1}, step {st['global_step']}",
                                        epoch=epoch + 1, step=st["global_step"], checkpoint_dir=str(out))
            idx = perm[step * batch:(step + 1) * batch].to(x_train.device)
            x = normalize(x_train[idx].to(device, non_blocking=True))
            y = y_train[idx].to(device, non_blocking=True)
            if cfg.augment:
                x = augment_batch(x, _step_generator(cfg.seed, st["global_step"]))
            if cfg.channels_last and device.type == "cuda":
                x = x.contiguous(memory_format=torch.channels_last)
            with autocast_context(device, cfg.bf16):
                logits = model(x)
            loss = sequence_loss(logits, y, cfg.label_smoothing)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            if use_agc:
                # NFNets: clip the backbone only; the per-position heads are
                # excluded as the NFNet paper (and timm) exclude the classifier.
                adaptive_clip_grad(backbone_params, clip_factor=cfg.agc_clip)
            optimizer.step()
            scheduler.step()
            st["global_step"] += 1
            pending_loss += loss.detach()
            st["loss_count"] += 1
            window_imgs += len(idx)
            epoch_imgs += len(idx)
            if st["global_step"] % cfg.log_every_steps == 0:
                flush_loss()
                now = time.perf_counter()
                emit({"event": "step", "epoch": epoch + 1, "epochs": cfg.epochs, "step": st["global_step"],
                      "total_steps": total_steps, "loss": st["loss_sum"] / st["loss_count"],
                      "lr": optimizer.param_groups[0]["lr"], "images_per_s": window_imgs / max(now - window_t, 1e-9),
                      "val_seq_acc": None, "val_char_acc": None,
                      "best_val_seq_acc": st["best"].get("val_seq_acc"), "elapsed_s": elapsed()})
                window_t, window_imgs = now, 0

        flush_loss()
        epoch_loss = st["loss_sum"] / max(1, st["loss_count"])
        ips = epoch_imgs / max(time.perf_counter() - epoch_t0, 1e-9)
        st.update(epoch=epoch + 1, step_in_epoch=0, loss_sum=0.0, loss_count=0)
        record: dict[str, Any] = {"epoch": epoch + 1, "train_loss": epoch_loss, "lr": optimizer.param_groups[0]["lr"]}
        last_epoch = st["epoch"] >= cfg.epochs
        if val_texts and (st["epoch"] % cfg.eval_every_epochs == 0 or last_epoch):
            record.update(_validate(model, x_val, y_val, val_texts, cfg, charset))
            if not st["best"] or _score(record) > _score(st["best"]):
                st["best"] = {k: record[k] for k in ("val_seq_acc", "val_char_acc", "val_loss", "val_confusion_pairs")}
                st["best_epoch"] = st["epoch"]
                best_weights = ckpt.cpu_state_dict(model)
            if cfg.early_stop_seq_acc is not None and record["val_seq_acc"] >= cfg.early_stop_seq_acc:
                st["done"] = st["stopped_early"] = True
        elif not val_texts:
            st["best_epoch"] = st["epoch"]
            best_weights = ckpt.cpu_state_dict(model)
        record["elapsed_s"] = elapsed()
        st["history"].append(record)
        st["done"] = st["done"] or last_epoch
        if st["done"] or st["epoch"] % cfg.checkpoint_every_epochs == 0:
            save()
        emit({"event": "epoch", "epoch": epoch + 1, "epochs": cfg.epochs, "step": st["global_step"],
              "total_steps": total_steps, "loss": epoch_loss, "lr": record["lr"], "images_per_s": ips,
              "val_seq_acc": record.get("val_seq_acc"), "val_char_acc": record.get("val_char_acc"),
              "best_val_seq_acc": st["best"].get("val_seq_acc"), "elapsed_s": record["elapsed_s"]})
        window_t, window_imgs = time.perf_counter(), 0

    metrics = dict(st["best"])
    metrics["train_loss"] = st["history"][-1]["train_loss"] if st["history"] else None
    ckpt.write_metadata(out, cfg.to_dict(), params, metrics)
    return TrainResult(
        model_dir=str(out), weights_path=str(out / WEIGHTS_FILENAME), metadata_path=str(out / META_FILENAME),
        metrics=metrics, charset=charset, max_len=max_len, img_height=h, img_width=w, device=str(device),
        epochs_run=st["epoch"], best_epoch=st["best_epoch"],
        wall_time_s=elapsed(),
        stopped_early=st["stopped_early"], history=st["history"], config=cfg.to_dict(),
    )
