"""Write synthetic CAPTCHAs in the dataset format (``python -m mlops.ocr.generate``).

Uses the optional ``captcha`` package, imported only when images are drawn.
Labels are drawn from ``random.Random(seed)`` and are reproducible, but
``captcha`` 0.7.1 takes the image noise, fonts sizes and warps from the
``secrets`` module, so the *pixels* differ on every run whatever the seed
(captcha 0.7.0 used ``random``).  Keep the generated files when a fixed
dataset matters.

Examples::

    python -m mlops.ocr.generate data/digits4 --count 500 --length 4
    python -m mlops.ocr.generate data/cap6 --splits train=4000,val=500,test=2000 \\
        --length 6 --width 192 --height 64 --workers 8
"""

from __future__ import annotations

import argparse
import json
import random
import string
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from .datasets import MANIFEST_FILENAME, write_labels, write_manifest

DIGITS = string.digits


def random_texts(count: int, length: tuple[int, int], charset: str, seed: int) -> list[str]:
    """Seeded random label strings with lengths in ``[length[0], length[1]]``."""
    rng = random.Random(seed)
    lo, hi = length
    return ["".join(rng.choice(charset) for _ in range(rng.randint(lo, hi))) for _ in range(count)]


def _draw(job: tuple[str, list[tuple[str, str]], int, int]) -> int:
    directory, items, width, height = job
    # JPEG is about half the size of PNG: handy for shipping datasets to another machine.
    try:
        from captcha.image import ImageCaptcha
    except ImportError as exc:  # optional dependency
        raise RuntimeError("mlops.ocr.generate needs the 'captcha' package (pip install captcha)") from exc
    gen = ImageCaptcha(width=width, height=height)
    for filename, text in items:
        img = gen.generate_image(text)
        if filename.endswith(".jpg"):
            img.save(Path(directory) / filename, quality=90)
        else:
            img.save(Path(directory) / filename)
    return len(items)


def _write_split(directory: Path, texts: list[str], width: int, height: int, fmt: str, workers: int,
                 image_format: str = "png") -> None:
    directory.mkdir(parents=True, exist_ok=True)
    records = [(f"{i:06d}.{image_format}", t) for i, t in enumerate(texts)]
    chunk = max(1, -(-len(records) // max(1, workers * 4)))
    jobs = [(str(directory), records[i:i + chunk], width, height) for i in range(0, len(records), chunk)]
    if workers > 1 and len(jobs) > 1:
        with ProcessPoolExecutor(workers) as pool:
            list(pool.map(_draw, jobs))
    else:
        for job in jobs:
            _draw(job)
    write_labels(directory, records, fmt)


def generate_dataset(
    out_dir: str,
    count: int = 0,
    *,
    length: int | tuple[int, int] = 4,
    charset: str = DIGITS,
    width: int = 160,
    height: int = 60,
    seed: int = 0,
    fmt: str = "csv",
    splits: dict[str, int] | None = None,
    workers: int = 1,
    image_format: str = "png",
) -> dict[str, Any]:
    """Generate CAPTCHAs into ``out_dir``.

    Without ``splits``: ``count`` images plus ``labels.csv``/``labels.jsonl``
    in ``out_dir``.  With ``splits`` (e.g. ``{"train": 400, "val": 100}``):
    one sub-directory per split plus ``manifest.json``.  Returns a summary
    dict (paths and counts).  ``image_format`` is ``"png"`` or ``"jpg"``.
    """
    if image_format not in ("png", "jpg"):
        raise ValueError("image_format must be 'png' or 'jpg'")
    lengths = (length, length) if isinstance(length, int) else tuple(length)
    if lengths[0] < 1 or lengths[1] < lengths[0]:
        raise ValueError("bad length range")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    if not splits:
        _write_split(out, random_texts(count, lengths, charset, seed), width, height, fmt, workers, image_format)
        return {"path": str(out), "count": count}
    manifest: dict[str, str] = {}
    for k, (name, n) in enumerate(splits.items()):
        # A distinct label stream per split, so splits never share a sequence of labels.
        _write_split(out / name, random_texts(n, lengths, charset, seed * 1000 + k), width, height, fmt, workers,
                     image_format)
        manifest[name] = name
    path = write_manifest(out / MANIFEST_FILENAME, manifest)
    return {"path": str(path), "splits": dict(splits)}


def _parse_length(text: str) -> tuple[int, int]:
    lo, _, hi = text.partition("-")
    return int(lo), int(hi or lo)


def _parse_splits(text: str) -> dict[str, int]:
    out = {}
    for part in text.split(","):
        name, _, n = part.partition("=")
        out[name.strip()] = int(n)
    return out


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    p = argparse.ArgumentParser(prog="python -m mlops.ocr.generate", description=__doc__.split("\n")[0])
    p.add_argument("out_dir")
    p.add_argument("--count", type=int, default=100, help="number of images (ignored with --splits)")
    p.add_argument("--splits", type=_parse_splits, help="e.g. train=400,val=100,test=200 (writes manifest.json)")
    p.add_argument("--length", type=_parse_length, default=(4, 4), help="label length, N or MIN-MAX")
    p.add_argument("--charset", default=DIGITS)
    p.add_argument("--width", type=int, default=160)
    p.add_argument("--height", type=int, default=60)
    p.add_argument("--seed", type=int, default=0, help="seeds the labels (pixels are not reproducible)")
    p.add_argument("--format", choices=("csv", "jsonl"), default="csv")
    p.add_argument("--image-format", choices=("png", "jpg"), default="png")
    p.add_argument("--workers", type=int, default=1)
    a = p.parse_args(argv)
    summary = generate_dataset(a.out_dir, a.count, length=a.length, charset=a.charset, width=a.width,
                               height=a.height, seed=a.seed, fmt=a.format, splits=a.splits, workers=a.workers,
                               image_format=a.image_format)
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
