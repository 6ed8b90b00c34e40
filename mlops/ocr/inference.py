"""Loading trained models, prediction and evaluation."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Any, Sequence

import torch

from .augment import shift_batch
from .checkpoint import load_weights, read_metadata
from .config import BLANK_INDEX, WEIGHTS_FILENAME, TrainConfig
from .images import ImageInput, decode_indices, load_images, normalize
from .metrics import text_metrics
from .model import OCRModel, build_model

# Test-time augmentation views: (dx px, dy px, zoom).  Small shifts only: they
# smooth out position-sensitive mistakes without moving glyphs between heads.
TTA_VIEWS = ((0.0, 0.0, 1.0), (2.0, 0.0, 1.0), (-2.0, 0.0, 1.0), (0.0, 1.0, 1.0), (0.0, 0.0, 0.95))


def resolve_device(device: str) -> torch.device:
    """Map ``'auto'`` to CUDA when available, else CPU."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


def autocast_context(device: torch.device, bf16: bool):
    """bf16 autocast on CUDA when requested; a no-op elsewhere (CPU bf16 is slow and lossy)."""
    if bf16 and device.type == "cuda":
        return torch.autocast(device_type="cuda", dtype=torch.bfloat16)
    return contextlib.nullcontext()


def load_model(model_dir: str | os.PathLike, device: str = "cpu", weights: str = WEIGHTS_FILENAME) -> OCRModel:
    """Rebuild a trained model from its directory (JSON sidecar + safetensors).

    The returned model is in eval mode on ``device`` and carries the sidecar
    as ``model.ocr_meta`` (charset, max_len, input size, config, metrics).
    """
    meta = read_metadata(model_dir)
    config = TrainConfig.from_dict(meta["config"])
    model = build_model(config, meta["charset"], meta["max_len"], meta["img_height"], meta["img_width"])
    load_weights(model, Path(model_dir) / weights)
    dev = resolve_device(device)
    model.to(dev).eval()
    model.ocr_meta = meta  # type: ignore[attr-defined]
    return model


def _model_device(model: torch.nn.Module) -> torch.device:
    return next(model.parameters()).device


@torch.no_grad()
def predict_proba(model: OCRModel, batch_uint8: torch.Tensor, *, batch_size: int = 128, tta: bool = False,
                  bf16: bool = True, channels_last: bool = False) -> torch.Tensor:
    """Class probabilities ``(N, max_len, classes)`` (float32, CPU) for uint8 images."""
    device = _model_device(model)
    was_training = model.training
    model.eval()
    views = TTA_VIEWS if tta else TTA_VIEWS[:1]
    out = []
    try:
        for start in range(0, batch_uint8.shape[0], batch_size):
            x = normalize(batch_uint8[start:start + batch_size].to(device, non_blocking=True))
            if channels_last and device.type == "cuda":
                x = x.contiguous(memory_format=torch.channels_last)
            probs = None
            for dx, dy, zoom in views:
                xv = x if (dx, dy, zoom) == (0.0, 0.0, 1.0) else shift_batch(x, dx, dy, zoom)
                with autocast_context(device, bf16):
                    p = model(xv).float().softmax(dim=-1)
                probs = p if probs is None else probs + p
            out.append((probs / len(views)).cpu())
    finally:
        model.train(was_training)
    return torch.cat(out) if out else torch.empty(0, model.max_len, model.num_classes)


def decode_probs(probs: torch.Tensor, charset: str) -> list[dict[str, Any]]:
    """Turn probabilities into ``{"text", "char_confidences", "confidence"}`` dicts.

    ``char_confidences`` has one probability per emitted character;
    ``confidence`` is the product over all positions (blank ones included), i.e.
    the model's probability for the whole string.
    """
    conf, idx = probs.max(dim=-1)
    results = []
    for row_idx, row_conf in zip(idx.tolist(), conf.tolist()):
        seq_conf = 1.0
        for c in row_conf:
            seq_conf *= c
        results.append({
            "text": decode_indices(row_idx, charset),
            "char_confidences": [c for i, c in zip(row_idx, row_conf) if i != BLANK_INDEX],
            "confidence": seq_conf,
        })
    return results


def _meta(model: torch.nn.Module) -> dict[str, Any]:
    meta = getattr(model, "ocr_meta", None)
    if meta is None:
        raise ValueError("model has no ocr_meta; load it with load_model()")
    return meta


def predict(model: OCRModel, images: Sequence[ImageInput], batch_size: int = 64, tta: bool = False) -> list[dict[str, Any]]:
    """Read the text in each image (paths, bytes, PIL images or uint8 arrays).

    Returns one ``{"text": str, "char_confidences": [float, ...],
    "confidence": float}`` dict per image, in order.
    """
    meta = _meta(model)
    cfg = meta["config"]
    results: list[dict[str, Any]] = []
    # Decode in chunks so a large request never holds every image in memory.
    chunk = max(batch_size, 256)
    for start in range(0, len(images), chunk):
        x = load_images(images[start:start + chunk], meta["img_height"], meta["img_width"],
                        meta.get("in_chans", 3), num_workers=cfg.get("num_workers", 0))
        probs = predict_proba(model, x, batch_size=batch_size, tta=tta, bf16=cfg.get("bf16", True),
                              channels_last=cfg.get("channels_last", False))
        results.extend(decode_probs(probs, meta["charset"]))
    return results


def evaluate(model: OCRModel, samples: Sequence[tuple[ImageInput, str]], batch_size: int = 64,
             tta: bool = False, top_k: int = 20, max_errors: int = 50) -> dict[str, Any]:
    """Score a model on ``(image, text)`` samples.

    Returns ``{"n", "seq_acc", "char_acc", "confusion_pairs": [[true, pred,
    count], ...], "mean_confidence", "errors": [{"index", "true", "pred",
    "confidence"}, ...]}``.
    """
    preds = predict(model, [img for img, _ in samples], batch_size=batch_size, tta=tta)
    truths = [t for _, t in samples]
    metrics = text_metrics(truths, [p["text"] for p in preds], top_k=top_k)
    metrics["mean_confidence"] = sum(p["confidence"] for p in preds) / len(preds) if preds else 0.0
    metrics["errors"] = [
        {"index": i, "true": t, "pred": p["text"], "confidence": p["confidence"]}
        for i, (t, p) in enumerate(zip(truths, preds)) if t != p["text"]
    ][:max_errors]
    return metrics
