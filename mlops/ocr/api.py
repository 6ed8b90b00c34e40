"""The programmatic API in one place (imports torch and timm).

Usage from a background job::

    from mlops.ocr import TrainConfig
    from mlops.ocr import api

    result = api.train(TrainConfig(epochs=50), train_samples, val_samples, out_dir,
                       progress_callback=report, should_stop=cancel_requested)
    model = api.load_model(result.model_dir, device="cuda")
    api.predict(model, [image_bytes])  # -> [{"text", "char_confidences", "confidence"}]
"""

from __future__ import annotations

from .config import TrainConfig, TrainingCancelled, TrainResult
from .datasets import load_dataset
from .inference import evaluate, load_model, predict
from .trainer import train

__all__ = ["TrainConfig", "TrainResult", "TrainingCancelled", "train", "load_model", "predict", "evaluate",
           "load_dataset"]
