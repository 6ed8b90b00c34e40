"""OCR / CAPTCHA reading: a timm backbone with one classifier per character position.

Importing this package is cheap and torch-free: the configuration types are
imported eagerly from :mod:`mlops.ocr.config`, while the functions that need
torch/timm (``train``, ``load_model``, ``predict``, ``evaluate``) are imported
on first attribute access.  The web process can therefore use ``TrainConfig``
without ever loading the ML stack.

Note: ``python -m mlops.ocr.train`` / ``.evaluate`` / ``.generate`` are the
command-line modules.  Code should call the functions through this package
(``mlops.ocr.train(...)``) or through :mod:`mlops.ocr.api`, and never
``import mlops.ocr.train`` as a module (that would shadow the function).
"""

from __future__ import annotations

import importlib
from typing import Any

from .config import BLANK_INDEX, TrainConfig, TrainingCancelled, TrainResult

_LAZY = {
    "train": ("mlops.ocr.trainer", "train"),
    "load_model": ("mlops.ocr.inference", "load_model"),
    "predict": ("mlops.ocr.inference", "predict"),
    "evaluate": ("mlops.ocr.inference", "evaluate"),
    "generate_dataset": ("mlops.ocr.generate", "generate_dataset"),
    "load_dataset": ("mlops.ocr.datasets", "load_dataset"),
}

__all__ = ["BLANK_INDEX", "TrainConfig", "TrainResult", "TrainingCancelled", *_LAZY]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        module, attr = _LAZY[name]
        return getattr(importlib.import_module(module), attr)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
