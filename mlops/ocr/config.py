"""Torch-free configuration and result types for the OCR trainer.

This module must stay importable without torch/timm: the Django web process
imports it to validate and store training configurations, and it must never
pull the ML stack into that process.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

#: Class index reserved for "no character here" (padding for shorter strings).
#: Character ``charset[i]`` is class ``i + 1``.
BLANK_INDEX = 0

#: Name of the JSON sidecar describing a trained model directory.
META_FILENAME = "ocr_model.json"
#: Weights of the best (by validation sequence accuracy) model.
WEIGHTS_FILENAME = "model.safetensors"
#: Weights of the most recent step, used together with the state file to resume.
LAST_WEIGHTS_FILENAME = "last.safetensors"
#: Optimizer / scheduler / RNG / epoch state for resuming (torch.save).
STATE_FILENAME = "train_state.pt"

_OPTIMIZERS = ("adamw", "sgd")
_DEVICES = ("auto", "cpu", "cuda")
_HEADS = ("attn", "avg")


@dataclass
class TrainConfig:
    """Hyper-parameters of one OCR training run.

    ``img_height``, ``img_width``, ``charset`` and ``max_len`` may be left as
    ``None``: they are then inferred from the training data (see
    :func:`mlops.ocr.data.infer_dataset_params`) and recorded in the model's
    JSON sidecar.
    """

    backbone: str = "eca_nfnet_l0"
    img_height: int | None = None  # None: from the data (height capped at 64, aspect kept)
    img_width: int | None = None
    in_chans: int = 3
    charset: str | None = None
    max_len: int | None = None
    # "attn": one learned query per character position attends over the
    # backbone's feature map (uses spatial layout; far more label-efficient on
    # CPU-scale experiments).  "avg": global average pooling, the classic
    # "pooled features -> one head per position" design.
    head: str = "attn"
    pos_embed: bool = True  # learned 2-D position embedding on the feature map (attn head)
    head_dim: int = 256
    # Backbone output stride. 16 (instead of the usual 32) doubles the feature
    # map's resolution so the per-position heads can tell neighbouring glyphs
    # apart; it clearly helped label efficiency in CPU experiments.  Ignored
    # (with a warning) for timm models without an output_stride argument.
    output_stride: int | None = 16
    dropout: float = 0.1
    backbone_kwargs: dict[str, Any] = field(default_factory=dict)

    epochs: int = 100
    batch_size: int = 64
    lr: float = 1e-3
    min_lr_ratio: float = 0.01  # cosine decays to lr * min_lr_ratio
    weight_decay: float = 0.05
    optimizer: str = "adamw"
    momentum: float = 0.9  # SGD only
    warmup_steps: int | None = None  # overrides warmup_epochs when set
    warmup_epochs: float = 2.0
    label_smoothing: float = 0.1
    agc_clip: float = 0.01  # adaptive gradient clipping factor; NFNet backbones only, 0 disables
    bf16: bool = True  # autocast to bfloat16, CUDA only
    channels_last: bool = False  # CUDA only; measured slower for NFNet training upstream
    augment: bool = True
    seed: int = 0
    device: str = "auto"
    deterministic: bool = False  # torch.use_deterministic_algorithms (slower on CUDA)
    early_stop_seq_acc: float | None = 1.0  # stop once validation reaches it; None disables
    eval_every_epochs: int = 1
    # Write last weights + optimizer state every N epochs (always at the end and
    # on cancellation).  An eca_nfnet_l0 checkpoint is ~270 MB, so per-epoch
    # writes would slow short GPU epochs noticeably.
    checkpoint_every_epochs: int = 5
    log_every_steps: int = 50
    num_workers: int = 2  # threads used to decode images

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        """Raise ``ValueError`` if a field has an unusable value."""
        if self.optimizer not in _OPTIMIZERS:
            raise ValueError(f"optimizer must be one of {_OPTIMIZERS}, got {self.optimizer!r}")
        if self.device not in _DEVICES:
            raise ValueError(f"device must be one of {_DEVICES}, got {self.device!r}")
        if self.head not in _HEADS:
            raise ValueError(f"head must be one of {_HEADS}, got {self.head!r}")
        if self.in_chans not in (1, 3):
            raise ValueError("in_chans must be 1 (grayscale) or 3 (RGB)")
        for name in ("epochs", "batch_size", "head_dim", "eval_every_epochs", "log_every_steps", "checkpoint_every_epochs"):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"{name} must be >= 1")
        for name in ("img_height", "img_width", "max_len"):
            value = getattr(self, name)
            if value is not None and int(value) < 1:
                raise ValueError(f"{name} must be >= 1 or None")
        if self.charset is not None:
            if len(set(self.charset)) != len(self.charset) or not self.charset:
                raise ValueError("charset must be a non-empty string of distinct characters")
        if self.lr <= 0:
            raise ValueError("lr must be > 0")
        if self.early_stop_seq_acc is not None and not 0.0 <= self.early_stop_seq_acc <= 1.0:
            raise ValueError("early_stop_seq_acc must be in [0, 1], or None to disable")
        if not 0.0 <= self.label_smoothing < 1.0:
            raise ValueError("label_smoothing must be in [0, 1)")
        if self.num_workers < 0:
            raise ValueError("num_workers must be >= 0")

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-serialisable dict of all fields."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "TrainConfig":
        """Build a config from a dict, ignoring unknown keys (forward compatibility)."""
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in dict(data).items() if k in names})

    def replace(self, **changes: Any) -> "TrainConfig":
        """Return a copy with some fields changed."""
        return dataclasses.replace(self, **changes)


@dataclass
class TrainResult:
    """Outcome of :func:`mlops.ocr.train`.

    ``metrics`` holds the best validation metrics (``val_seq_acc``,
    ``val_char_acc``, ``val_confusion_pairs``) and ``train_loss`` of the last
    epoch.  ``weights_path`` points at the best model's safetensors file and
    ``metadata_path`` at the JSON sidecar; together with ``model_dir`` they are
    all :func:`mlops.ocr.load_model` needs.
    """

    model_dir: str
    weights_path: str
    metadata_path: str
    metrics: dict[str, Any]
    charset: str
    max_len: int
    img_height: int
    img_width: int
    device: str
    epochs_run: int
    best_epoch: int
    wall_time_s: float
    stopped_early: bool
    history: list[dict[str, Any]] = field(default_factory=list)
    config: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-serialisable dict of all fields."""
        return dataclasses.asdict(self)


class TrainingCancelled(Exception):
    """Raised by :func:`mlops.ocr.train` when ``should_stop()`` returned True.

    A resumable checkpoint has been written before raising; calling ``train``
    again with the same arguments and ``resume=True`` continues the run.
    ``epoch`` is the 1-based epoch that was interrupted, ``step`` the number of
    optimizer steps completed.
    """

    def __init__(self, message: str, *, epoch: int, step: int, checkpoint_dir: str):
        super().__init__(message)
        self.epoch = epoch
        self.step = step
        self.checkpoint_dir = checkpoint_dir
