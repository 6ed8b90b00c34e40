"""Reading and writing the on-disk dataset format (torch-free, stdlib only).

Two layouts are accepted wherever a dataset path is expected:

1. **A directory** holding image files plus ``labels.csv`` (header
   ``filename,text``) or ``labels.jsonl`` (one ``{"filename": ..., "text": ...}``
   object per line).  File names are relative to the directory.
2. **A manifest** ``*.json`` file::

       {"version": 1,
        "splits": {"train": "train", "val": "val/labels.csv",
                   "test": [{"filename": "test/0001.png", "text": "4821"}]}}

   Each split is a directory (layout 1), a labels file, or an inline list of
   records.  Relative paths are resolved against the manifest's directory.

Texts are kept exactly as written (case-sensitive, leading zeros kept).
"""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path
from typing import Iterable, Sequence

LABEL_FILES = ("labels.csv", "labels.jsonl")
MANIFEST_FILENAME = "manifest.json"

Sample = tuple[str, str]  # (absolute image path, text)


def _read_csv(path: Path) -> list[Sample]:
    with path.open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        if reader.fieldnames is None or not {"filename", "text"} <= set(reader.fieldnames):
            raise ValueError(f"{path}: CSV needs a header with 'filename' and 'text' columns")
        return [(str(path.parent / row["filename"]), row["text"]) for row in reader]


def _read_jsonl(path: Path) -> list[Sample]:
    samples = []
    with path.open(encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                continue
            rec = json.loads(line)
            try:
                samples.append((str(path.parent / rec["filename"]), str(rec["text"])))
            except KeyError as exc:
                raise ValueError(f"{path}:{lineno}: missing key {exc}") from None
    return samples


def read_labels(path: str | os.PathLike) -> list[Sample]:
    """Read ``(image_path, text)`` samples from a dataset directory or labels file."""
    p = Path(path)
    if p.is_dir():
        for name in LABEL_FILES:
            if (p / name).exists():
                return read_labels(p / name)
        raise FileNotFoundError(f"{p}: no {' or '.join(LABEL_FILES)} found")
    if p.suffix == ".csv":
        return _read_csv(p)
    if p.suffix == ".jsonl":
        return _read_jsonl(p)
    raise ValueError(f"{p}: expected a directory, labels.csv or labels.jsonl")


def read_manifest(path: str | os.PathLike) -> dict[str, list[Sample]]:
    """Read a manifest JSON file and return ``{split_name: samples}``."""
    p = Path(path)
    data = json.loads(p.read_text(encoding="utf-8"))
    splits = data.get("splits")
    if not isinstance(splits, dict):
        raise ValueError(f"{p}: manifest needs a 'splits' object")
    out: dict[str, list[Sample]] = {}
    for name, spec in splits.items():
        if isinstance(spec, str):
            out[name] = read_labels(p.parent / spec)
        elif isinstance(spec, list):
            out[name] = [(str(p.parent / r["filename"]), str(r["text"])) for r in spec]
        else:
            raise ValueError(f"{p}: split {name!r} must be a path or a list of records")
    return out


def load_dataset(path: str | os.PathLike) -> dict[str, list[Sample]]:
    """Load a dataset path of either layout.

    A manifest (or a directory containing ``manifest.json``) yields its splits;
    a plain labelled directory or labels file yields ``{"all": samples}``.
    """
    p = Path(path)
    if p.is_dir() and (p / MANIFEST_FILENAME).exists() and not any((p / n).exists() for n in LABEL_FILES):
        return read_manifest(p / MANIFEST_FILENAME)
    if p.suffix == ".json":
        return read_manifest(p)
    return {"all": read_labels(p)}


def split_samples(samples: Sequence[Sample], fraction: float, seed: int) -> tuple[list[Sample], list[Sample]]:
    """Deterministically split samples into ``(rest, held_out)`` with ``fraction`` held out."""
    import random

    idx = list(range(len(samples)))
    random.Random(seed).shuffle(idx)
    n_out = int(round(len(samples) * fraction))
    if fraction > 0 and len(samples) > 1:
        n_out = min(max(n_out, 1), len(samples) - 1)
    held = set(idx[:n_out])
    rest = [s for i, s in enumerate(samples) if i not in held]
    out = [s for i, s in enumerate(samples) if i in held]
    return rest, out


def write_labels(directory: str | os.PathLike, records: Iterable[tuple[str, str]], fmt: str = "csv") -> Path:
    """Write ``(filename, text)`` records (file names relative to ``directory``)."""
    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    if fmt == "csv":
        path = d / "labels.csv"
        with path.open("w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            writer.writerow(["filename", "text"])
            writer.writerows(records)
    elif fmt == "jsonl":
        path = d / "labels.jsonl"
        with path.open("w", encoding="utf-8") as fh:
            for filename, text in records:
                fh.write(json.dumps({"filename": filename, "text": text}, ensure_ascii=False) + "\n")
    else:
        raise ValueError("fmt must be 'csv' or 'jsonl'")
    return path


def write_manifest(path: str | os.PathLike, splits: dict[str, str]) -> Path:
    """Write a manifest whose splits point at (relative) directories or label files."""
    p = Path(path)
    p.write_text(json.dumps({"version": 1, "splits": splits}, indent=2) + "\n", encoding="utf-8")
    return p
