"""Torch-free parts: import hygiene, config, dataset format, metrics."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from mlops.ocr.config import TrainConfig
from mlops.ocr.datasets import load_dataset, read_labels, split_samples, write_labels, write_manifest
from mlops.ocr.metrics import text_metrics

pytestmark = pytest.mark.ml

REPO = Path(__file__).resolve().parents[3]


def test_package_import_does_not_load_torch():
    # The Django web process imports these; torch/timm must stay out of it.
    code = (
        "import sys\n"
        "import mlops.ocr, mlops.ocr.config, mlops.ocr.datasets, mlops.ocr.metrics\n"
        "from mlops.ocr import TrainConfig, TrainResult, TrainingCancelled\n"
        "TrainConfig.from_dict(TrainConfig(backbone='resnet10t').to_dict())\n"
        "heavy = sorted(m for m in ('torch', 'timm', 'torchvision', 'numpy') if m in sys.modules)\n"
        "print(','.join(heavy))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_config_round_trip_and_validation():
    cfg = TrainConfig(backbone="resnet10t", charset="0123456789", max_len=6, backbone_kwargs={"drop_rate": 0.1})
    data = json.loads(json.dumps(cfg.to_dict()))
    assert TrainConfig.from_dict({**data, "unknown_future_field": 1}) == cfg
    for bad in ({"optimizer": "lamb"}, {"device": "tpu"}, {"charset": "00"}, {"epochs": 0}, {"head": "rnn"}):
        with pytest.raises(ValueError):
            TrainConfig(**bad)


def test_labels_csv_jsonl_and_manifest(tmp_path):
    records = [("a.png", "0042"), ("b.png", "x,y")]  # leading zeros and commas survive
    write_labels(tmp_path / "csv", records, "csv")
    write_labels(tmp_path / "jsonl", records, "jsonl")
    for sub in ("csv", "jsonl"):
        samples = read_labels(tmp_path / sub)
        assert [t for _, t in samples] == ["0042", "x,y"]
        assert samples[0][0] == str(tmp_path / sub / "a.png")
    write_manifest(tmp_path / "manifest.json", {"train": "csv", "val": "jsonl/labels.jsonl"})
    data = load_dataset(tmp_path / "manifest.json")
    assert set(data) == {"train", "val"} and data["val"][1][1] == "x,y"
    assert load_dataset(tmp_path / "csv") == {"all": read_labels(tmp_path / "csv")}
    inline = tmp_path / "inline.json"
    inline.write_text(json.dumps({"splits": {"test": [{"filename": "csv/a.png", "text": "7"}]}}))
    assert load_dataset(inline) == {"test": [(str(tmp_path / "csv" / "a.png"), "7")]}


def test_split_samples_is_deterministic_and_disjoint():
    samples = [(f"{i}.png", str(i)) for i in range(50)]
    rest, held = split_samples(samples, 0.2, seed=3)
    assert len(held) == 10 and len(rest) == 40
    assert not set(rest) & set(held)
    assert split_samples(samples, 0.2, seed=3) == (rest, held)


def test_text_metrics():
    m = text_metrics(["1234", "1234", "99"], ["1234", "1284", "9"])
    assert m["n"] == 3
    assert m["seq_acc"] == pytest.approx(1 / 3)
    assert m["char_acc"] == pytest.approx(8 / 10)  # one substitution, one dropped char
    assert m["confusion_pairs"] == [["3", "8", 1], ["9", "", 1]]
