"""Image decoding, label encoding and dataset-derived parameters."""

from __future__ import annotations

import io
import os
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Sequence

import numpy as np
import torch
from PIL import Image

from .config import BLANK_INDEX

ImageInput = Any  # path (str/PathLike), bytes, PIL.Image.Image or HxW[xC] uint8 numpy array

#: Images taller than this are scaled down (keeping aspect) when the input size
#: is inferred from the data: CAPTCHAs carry little detail and compute grows
#: with area.
AUTO_MAX_HEIGHT = 64


def open_image(img: ImageInput) -> Image.Image:
    """Return a PIL image from a path, raw bytes, a PIL image or a numpy array."""
    if isinstance(img, Image.Image):
        return img
    if isinstance(img, (bytes, bytearray, memoryview)):
        return Image.open(io.BytesIO(bytes(img)))
    if isinstance(img, (str, os.PathLike)):
        with Image.open(img) as im:
            im.load()
            return im
    if isinstance(img, np.ndarray):
        return Image.fromarray(img)
    raise TypeError(f"unsupported image input: {type(img).__name__}")


def image_to_tensor(img: ImageInput, height: int, width: int, in_chans: int = 3) -> torch.Tensor:
    """Decode and resize one image to a ``(C, H, W)`` uint8 tensor."""
    im = open_image(img)
    im = im.convert("L" if in_chans == 1 else "RGB")
    if im.size != (width, height):
        im = im.resize((width, height), Image.BILINEAR)
    arr = np.asarray(im, dtype=np.uint8)
    if arr.ndim == 2:
        arr = arr[:, :, None]
    return torch.from_numpy(arr.copy()).permute(2, 0, 1).contiguous()


def load_images(
    images: Sequence[ImageInput], height: int, width: int, in_chans: int = 3, num_workers: int = 0
) -> torch.Tensor:
    """Decode many images into one ``(N, C, H, W)`` uint8 tensor (threads help: PIL releases the GIL)."""
    out = torch.empty((len(images), in_chans, height, width), dtype=torch.uint8)

    def _one(i: int) -> None:
        out[i] = image_to_tensor(images[i], height, width, in_chans)

    if num_workers > 1 and len(images) > 64:
        with ThreadPoolExecutor(num_workers) as pool:
            list(pool.map(_one, range(len(images))))
    else:
        for i in range(len(images)):
            _one(i)
    return out


def normalize(batch_uint8: torch.Tensor) -> torch.Tensor:
    """Map uint8 pixels to float in [-1, 1] (what the from-scratch backbones are trained on)."""
    return batch_uint8.float().div_(127.5).sub_(1.0)


def encode_texts(texts: Sequence[str], charset: str, max_len: int) -> torch.Tensor:
    """Encode strings as ``(N, max_len)`` class indices, padding with :data:`BLANK_INDEX`."""
    lookup = {c: i + 1 for i, c in enumerate(charset)}
    out = torch.full((len(texts), max_len), BLANK_INDEX, dtype=torch.long)
    for n, text in enumerate(texts):
        if len(text) > max_len:
            raise ValueError(f"label {text!r} is longer than max_len={max_len}")
        for i, ch in enumerate(text):
            if ch not in lookup:
                raise ValueError(f"label {text!r} has character {ch!r} outside the charset")
            out[n, i] = lookup[ch]
    return out


def decode_indices(indices: Sequence[int], charset: str) -> str:
    """Turn per-position class indices into text, dropping blank positions."""
    return "".join(charset[i - 1] for i in indices if i != BLANK_INDEX)


def _image_size(img: ImageInput) -> tuple[int, int]:
    if isinstance(img, (str, os.PathLike)):
        with Image.open(img) as im:  # reads the header only
            return im.size
    return open_image(img).size


def infer_dataset_params(samples: Sequence[tuple[ImageInput, str]], probe: int = 32) -> dict[str, Any]:
    """Derive charset, max_len and input size from labelled samples.

    The charset is the sorted set of label characters, ``max_len`` the longest
    label.  The input size is the most common size among the first ``probe``
    images, scaled down to at most :data:`AUTO_MAX_HEIGHT` pixels high, width
    rounded to a multiple of 8.
    """
    if not samples:
        raise ValueError("no samples")
    texts = [t for _, t in samples]
    charset = "".join(sorted(set("".join(texts))))
    max_len = max(len(t) for t in texts)
    sizes = Counter(_image_size(img) for img, _ in samples[:probe])
    (w, h), _ = sizes.most_common(1)[0]
    if h > AUTO_MAX_HEIGHT:
        w, h = w * AUTO_MAX_HEIGHT / h, AUTO_MAX_HEIGHT
    w = max(8, int(round(w / 8)) * 8)
    return {"charset": charset, "max_len": max_len, "img_height": int(h), "img_width": int(w)}


def resolve_params(config: Any, samples: Sequence[tuple[ImageInput, str]]) -> dict[str, Any]:
    """Fill the ``None`` fields of a config (charset, max_len, size) from the data."""
    need = [config.charset, config.max_len, config.img_height, config.img_width]
    inferred = infer_dataset_params(samples) if any(v is None for v in need) else {}
    params = {
        "charset": config.charset if config.charset is not None else inferred["charset"],
        "max_len": config.max_len if config.max_len is not None else inferred["max_len"],
        "img_height": config.img_height if config.img_height is not None else inferred["img_height"],
        "img_width": config.img_width if config.img_width is not None else inferred["img_width"],
    }
    return params
