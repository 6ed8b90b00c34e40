"""CAPTCHA-style data augmentation with plain torch ops.

Works on whole normalised batches on the training device (no torchvision
needed, no per-image Python loop), and draws every random parameter from an
explicit ``torch.Generator`` so a run is reproducible and resumable: the
trainer seeds one generator per step from ``(seed, epoch, step)``.

The transforms are deliberately mild: CAPTCHA glyphs are already distorted,
and large rotations or crops would push characters out of their positions.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F


@dataclass(frozen=True)
class AugmentParams:
    """Ranges of the random transforms (each drawn per image)."""

    rotate_deg: float = 5.0
    scale: tuple[float, float] = (0.9, 1.1)
    shear: float = 0.15
    translate_x: float = 0.04  # fraction of width
    translate_y: float = 0.08  # fraction of height
    contrast: tuple[float, float] = (0.7, 1.3)
    brightness: float = 0.1  # in [-1, 1] pixel units
    blur_prob: float = 0.3
    blur_sigma: tuple[float, float] = (0.3, 1.1)
    noise_std: float = 0.06


def _uniform(n: int, lo: float, hi: float, g: torch.Generator) -> torch.Tensor:
    return torch.rand(n, generator=g) * (hi - lo) + lo


def affine_warp(x: torch.Tensor, mats_px: torch.Tensor, shift_px: torch.Tensor) -> torch.Tensor:
    """Warp a batch with per-image 2x2 matrices and shifts given in pixel units.

    ``affine_grid`` works in normalised [-1, 1] coordinates, where a pixel is
    wider along the shorter side; converting through pixel space keeps
    rotations and shears undistorted for wide CAPTCHA images.
    """
    b, _, h, w = x.shape
    s = torch.tensor([w / 2.0, h / 2.0], dtype=torch.float32)
    mats_norm = mats_px / s.view(1, 2, 1) * s.view(1, 1, 2)  # S^-1 A S
    theta = torch.cat([mats_norm, (shift_px / s).unsqueeze(2)], dim=2).to(x.device, x.dtype)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)


def _gaussian_blur(x: torch.Tensor, sigma: torch.Tensor) -> torch.Tensor:
    """Separable per-image Gaussian blur; ``sigma == 0`` leaves an image unchanged."""
    b, c, h, w = x.shape
    radius = 2
    pos = torch.arange(-radius, radius + 1, dtype=torch.float32)
    safe = sigma.clamp(min=1e-3).view(b, 1)
    k = torch.exp(-(pos.view(1, -1) ** 2) / (2 * safe**2))
    k = k / k.sum(dim=1, keepdim=True)
    k = torch.where(sigma.view(b, 1) > 0, k, (pos == 0).float().expand(b, -1))
    k = k.repeat_interleave(c, dim=0).to(x.device, x.dtype)  # (B*C, 5)
    y = x.reshape(1, b * c, h, w)
    y = F.conv2d(F.pad(y, (radius, radius, 0, 0), mode="replicate"), k.view(b * c, 1, 1, -1), groups=b * c)
    y = F.conv2d(F.pad(y, (0, 0, radius, radius), mode="replicate"), k.view(b * c, 1, -1, 1), groups=b * c)
    return y.view(b, c, h, w)


def augment_batch(x: torch.Tensor, generator: torch.Generator, params: AugmentParams = AugmentParams()) -> torch.Tensor:
    """Randomly augment a normalised ``(B, C, H, W)`` float batch in [-1, 1].

    ``generator`` must be a CPU generator; it fully determines the result
    (noise is drawn from a device generator seeded from it).
    """
    b, _, h, w = x.shape
    g = generator
    ang = _uniform(b, -params.rotate_deg, params.rotate_deg, g) * (math.pi / 180.0)
    sc = _uniform(b, *params.scale, g)
    sh = _uniform(b, -params.shear, params.shear, g)
    cos, sin = torch.cos(ang), torch.sin(ang)
    rot = torch.stack([torch.stack([cos, -sin], 1), torch.stack([sin, cos], 1)], 1)
    shear = torch.zeros(b, 2, 2)
    shear[:, 0, 0] = 1.0
    shear[:, 1, 1] = 1.0
    shear[:, 0, 1] = sh
    # affine_grid maps output to input coordinates, so dividing by the scale zooms in.
    mats = rot @ shear / sc.view(b, 1, 1)
    shift = torch.stack(
        [_uniform(b, -params.translate_x, params.translate_x, g) * w,
         _uniform(b, -params.translate_y, params.translate_y, g) * h], dim=1)
    x = affine_warp(x, mats, shift)

    do_blur = torch.rand(b, generator=g) < params.blur_prob
    sigma = torch.where(do_blur, _uniform(b, *params.blur_sigma, g), torch.zeros(b))
    if bool(do_blur.any()):
        x = _gaussian_blur(x, sigma)

    contrast = _uniform(b, *params.contrast, g).to(x.device, x.dtype).view(b, 1, 1, 1)
    bright = _uniform(b, -params.brightness, params.brightness, g).to(x.device, x.dtype).view(b, 1, 1, 1)
    mean = x.mean(dim=(1, 2, 3), keepdim=True)
    x = (x - mean) * contrast + mean + bright

    noise_std = _uniform(b, 0.0, params.noise_std, g).to(x.device, x.dtype).view(b, 1, 1, 1)
    dev_gen = g if x.device.type == "cpu" else torch.Generator(device=x.device)
    if dev_gen is not g:
        dev_gen.manual_seed(int(torch.randint(0, 2**62, (1,), generator=g)))
    noise = torch.randn(x.shape, generator=dev_gen, device=x.device, dtype=x.dtype)
    return (x + noise * noise_std).clamp_(-1.0, 1.0)


def shift_batch(x: torch.Tensor, dx_px: float, dy_px: float, scale: float = 1.0) -> torch.Tensor:
    """Deterministically shift (and optionally zoom) a batch; used for test-time augmentation."""
    b = x.shape[0]
    mats = torch.eye(2).expand(b, 2, 2) / scale
    shift = torch.tensor([[-dx_px, -dy_px]], dtype=torch.float32).expand(b, 2)
    return affine_warp(x, mats, shift)
