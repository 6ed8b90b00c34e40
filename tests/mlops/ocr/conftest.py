"""Fixtures for the OCR core tests: generated CAPTCHAs, made once per session."""

from __future__ import annotations

import pytest

# 4-digit CAPTCHAs drawn at the captcha package's default 160x60 and trained at
# 32x96: small enough for 2 CPU cores, large enough to stay legible.
TRAIN_N, VAL_N, TEST_N = 600, 100, 300


@pytest.fixture(autouse=True)
def _clean_cache():
    """Shadow the project-wide autouse cache fixture: these tests never touch Django."""
    yield


@pytest.fixture(scope="session")
def captcha_data(tmp_path_factory):
    """``{"root", "manifest", "train", "val", "test"}`` for a generated 4-digit dataset."""
    pytest.importorskip("captcha")
    from mlops.ocr.datasets import load_dataset
    from mlops.ocr.generate import generate_dataset

    root = tmp_path_factory.mktemp("captcha4")
    generate_dataset(str(root), splits={"train": TRAIN_N, "val": VAL_N, "test": TEST_N}, length=4, seed=1, workers=2)
    splits = load_dataset(root / "manifest.json")
    return {"root": root, "manifest": root / "manifest.json", **splits}


@pytest.fixture(scope="session")
def tiny_data(tmp_path_factory):
    """A very small dataset directory (labels.csv) for CLI and resume tests."""
    pytest.importorskip("captcha")
    from mlops.ocr.datasets import load_dataset
    from mlops.ocr.generate import generate_dataset

    root = tmp_path_factory.mktemp("captcha_tiny")
    generate_dataset(str(root), 48, length=(3, 4), seed=2)
    return {"root": root, "samples": load_dataset(root)["all"]}
