"""Multi-head CAPTCHA/OCR model: a timm backbone plus one classifier per character position."""

from __future__ import annotations

import warnings
from typing import Any, Iterable

import timm
import torch
import torch.nn as nn
import torch.nn.functional as F

from .config import TrainConfig


def is_norm_free(backbone: str) -> bool:
    """True for timm's normaliser-free nets, which need adaptive gradient clipping."""
    name = backbone.lower()
    return "nfnet" in name or name.startswith("nf_")


def create_backbone(name: str, *, in_chans: int, global_pool: str, output_stride: int | None = None,
                    **kwargs: Any) -> nn.Module:
    """A classifier-less timm model, randomly initialised (never downloads weights)."""
    base = dict(pretrained=False, num_classes=0, global_pool=global_pool, in_chans=in_chans, **kwargs)
    if output_stride is None or output_stride == 32:
        return timm.create_model(name, **base)
    try:
        return timm.create_model(name, output_stride=output_stride, **base)
    except TypeError:  # architectures without dilation support (e.g. ViTs)
        warnings.warn(f"{name} does not take output_stride; using its default", stacklevel=2)
        return timm.create_model(name, **base)


class OCRModel(nn.Module):
    """Backbone → pooled features → one linear head per character position.

    Each head predicts ``len(charset) + 1`` classes, class 0 meaning "no
    character" so strings shorter than ``max_len`` are padded with it.

    Two pooling modes:

    * ``head="avg"``: timm's global average pooling; every head sees the same
      feature vector and must decode its position from channels alone.
    * ``head="attn"``: each position owns a learned query that attends over
      the backbone's feature map (plus an optional learned 2-D position
      embedding), so a head pools mostly from where its character is.  This
      keeps the spatial layout that global pooling throws away and learns
      from fewer labels.
    """

    def __init__(
        self,
        backbone: str,
        num_classes: int,
        max_len: int,
        img_size: tuple[int, int],
        *,
        in_chans: int = 3,
        head: str = "attn",
        pos_embed: bool = True,
        head_dim: int = 256,
        dropout: float = 0.1,
        output_stride: int | None = None,
        backbone_kwargs: dict[str, Any] | None = None,
    ):
        super().__init__()
        self.head_type = head
        self.max_len = max_len
        self.num_classes = num_classes
        self.backbone = create_backbone(backbone, in_chans=in_chans, global_pool="avg" if head == "avg" else "",
                                        output_stride=output_stride, **(backbone_kwargs or {}))
        self.drop = nn.Dropout(dropout)
        if head == "avg":
            in_dim = self.backbone.num_features
        else:
            with torch.no_grad():
                was_training = self.backbone.training
                self.backbone.eval()
                feat = self.backbone(torch.zeros(1, in_chans, *img_size))
                self.backbone.train(was_training)
            tokens = feat.flatten(2).shape[2] if feat.ndim == 4 else feat.shape[1]
            channels = feat.shape[1] if feat.ndim == 4 else feat.shape[2]
            self.proj = nn.Linear(channels, head_dim)
            self.pos_embed = nn.Parameter(torch.zeros(1, tokens, head_dim)) if pos_embed else None
            self.queries = nn.Parameter(torch.randn(max_len, head_dim) * 0.02)
            self.norm_kv = nn.LayerNorm(head_dim)
            self.attn = nn.MultiheadAttention(head_dim, num_heads=max(1, head_dim // 64), batch_first=True)
            self.norm_out = nn.LayerNorm(head_dim)
            if self.pos_embed is not None:
                nn.init.trunc_normal_(self.pos_embed, std=0.02)
            in_dim = head_dim
        self.heads = nn.ModuleList(nn.Linear(in_dim, num_classes) for _ in range(max_len))
        for h in self.heads:
            nn.init.zeros_(h.bias)

    def pooled(self, x: torch.Tensor) -> torch.Tensor:
        """Per-position features: ``(B, max_len, D)``."""
        feat = self.backbone(x)
        if self.head_type == "avg":
            return feat.unsqueeze(1).expand(-1, self.max_len, -1)
        tokens = feat.flatten(2).transpose(1, 2) if feat.ndim == 4 else feat
        kv = self.proj(tokens)
        if self.pos_embed is not None:
            kv = kv + self.pos_embed
        kv = self.norm_kv(kv)
        q = self.queries.unsqueeze(0).expand(x.shape[0], -1, -1)
        out, _ = self.attn(q, kv, kv, need_weights=False)
        return self.norm_out(out + q)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Return logits of shape ``(B, max_len, num_classes)``."""
        pooled = self.drop(self.pooled(x))
        return torch.stack([head(pooled[:, i]) for i, head in enumerate(self.heads)], dim=1)

    def head_parameters(self) -> Iterable[nn.Parameter]:
        """Parameters that are not part of the backbone (excluded from AGC)."""
        return (p for n, p in self.named_parameters() if not n.startswith("backbone."))


def build_model(config: TrainConfig, charset: str, max_len: int, img_height: int, img_width: int) -> OCRModel:
    """Create an untrained :class:`OCRModel` for a config and dataset parameters."""
    return OCRModel(
        config.backbone,
        num_classes=len(charset) + 1,
        max_len=max_len,
        img_size=(img_height, img_width),
        in_chans=config.in_chans,
        head=config.head,
        pos_embed=config.pos_embed,
        head_dim=config.head_dim,
        dropout=config.dropout,
        output_stride=config.output_stride,
        backbone_kwargs=config.backbone_kwargs,
    )


def sequence_loss(logits: torch.Tensor, targets: torch.Tensor, label_smoothing: float = 0.0) -> torch.Tensor:
    """Mean cross-entropy over all positions (blank positions included)."""
    return F.cross_entropy(
        logits.float().reshape(-1, logits.shape[-1]), targets.reshape(-1), label_smoothing=label_smoothing
    )


def param_groups(model: nn.Module, weight_decay: float) -> list[dict[str, Any]]:
    """AdamW/SGD parameter groups: no weight decay on biases, gains, embeddings and queries."""
    decay, no_decay = [], []
    for name, p in model.named_parameters():
        if not p.requires_grad:
            continue
        if p.ndim <= 1 or name in ("pos_embed", "queries") or name.endswith(".gain"):
            no_decay.append(p)
        else:
            decay.append(p)
    return [
        {"params": decay, "weight_decay": weight_decay},
        {"params": no_decay, "weight_decay": 0.0},
    ]
