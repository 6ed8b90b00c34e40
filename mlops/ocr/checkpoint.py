"""Model directory layout: safetensors weights, JSON sidecar and resumable training state.

A model directory contains:

* ``model.safetensors`` — best weights (by validation sequence accuracy);
* ``ocr_model.json`` — config, charset, max_len, input size and metrics, which
  is everything needed to rebuild the network for inference;
* ``last.safetensors`` + ``train_state.pt`` — the latest weights plus
  optimizer / scheduler / RNG / epoch state, used by ``train(resume=True)``.
"""

from __future__ import annotations

import json
import os
import random
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors.torch import load_file, save_file

from .config import BLANK_INDEX, META_FILENAME, STATE_FILENAME, WEIGHTS_FILENAME

FORMAT_VERSION = 1


def _atomic_replace(tmp: Path, final: Path) -> None:
    os.replace(tmp, final)  # a crash mid-write never leaves a truncated checkpoint


def cpu_state_dict(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    """A detached, contiguous CPU copy of a model's state dict."""
    return {k: v.detach().to("cpu", copy=True).contiguous() for k, v in model.state_dict().items()}


def save_tensors(tensors: dict[str, torch.Tensor], path: str | os.PathLike) -> None:
    """Write a state dict as safetensors, atomically."""
    path = Path(path)
    tmp = path.with_suffix(".tmp")
    save_file(tensors, str(tmp), metadata={"format": "pt"})
    _atomic_replace(tmp, path)


def save_weights(model: torch.nn.Module, path: str | os.PathLike) -> None:
    """Save a model's weights as safetensors."""
    save_tensors(cpu_state_dict(model), path)


def load_weights(model: torch.nn.Module, path: str | os.PathLike) -> None:
    """Load safetensors weights into a model (strict)."""
    model.load_state_dict(load_file(str(path)), strict=True)


def write_metadata(model_dir: str | os.PathLike, config: dict[str, Any], params: dict[str, Any],
                   metrics: dict[str, Any] | None = None) -> Path:
    """Write the JSON sidecar that lets :func:`load_model` rebuild the model."""
    meta = {
        "format_version": FORMAT_VERSION,
        "config": config,
        "charset": params["charset"],
        "max_len": params["max_len"],
        "img_height": params["img_height"],
        "img_width": params["img_width"],
        "in_chans": config.get("in_chans", 3),
        "blank_index": BLANK_INDEX,
        "normalization": "x / 127.5 - 1",
        "weights": WEIGHTS_FILENAME,
        "metrics": metrics or {},
        "saved_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    path = Path(model_dir) / META_FILENAME
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(meta, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    _atomic_replace(tmp, path)
    return path


def read_metadata(model_dir: str | os.PathLike) -> dict[str, Any]:
    """Read a model directory's JSON sidecar."""
    return json.loads((Path(model_dir) / META_FILENAME).read_text(encoding="utf-8"))


def rng_state() -> dict[str, Any]:
    """Capture every RNG the training loop may touch."""
    state = {
        "python": random.getstate(),
        "numpy": np.random.get_state(),
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    """Restore RNG states captured by :func:`rng_state`."""
    random.setstate(state["python"])
    np.random.set_state(state["numpy"])
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def save_state(path: str | os.PathLike, state: dict[str, Any]) -> None:
    """Write the resumable training state atomically."""
    path = Path(path)
    tmp = path.with_suffix(".tmp")
    torch.save(state, tmp)
    _atomic_replace(tmp, path)


def load_state(path: str | os.PathLike) -> dict[str, Any] | None:
    """Load the training state, or None if there is none."""
    path = Path(path)
    if not path.exists():
        return None
    # weights_only=False: the state holds numpy/python RNG tuples; it is our own file.
    return torch.load(path, map_location="cpu", weights_only=False)


def state_path(model_dir: str | os.PathLike) -> Path:
    """Where the resumable state of a model directory lives."""
    return Path(model_dir) / STATE_FILENAME
