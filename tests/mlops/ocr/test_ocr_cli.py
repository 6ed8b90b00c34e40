"""Smoke tests of the command-line entry points, run as subprocesses."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.ml

REPO = Path(__file__).resolve().parents[3]


def _run(*args: str, timeout: int = 180) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.run([sys.executable, "-m", *args], cwd=REPO, env=env, capture_output=True, text=True,
                          timeout=timeout)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc


def test_generate_train_evaluate_cli(tmp_path):
    pytest.importorskip("captcha")
    pytest.importorskip("timm")
    data = tmp_path / "data"
    out = _run("mlops.ocr.generate", str(data), "--splits", "train=40,val=8,test=8", "--length", "3-4",
               "--charset", "ab12", "--format", "jsonl", "--seed", "3")
    assert json.loads(out.stdout)["splits"] == {"train": 40, "val": 8, "test": 8}
    assert (data / "manifest.json").exists() and (data / "train" / "labels.jsonl").exists()

    model_dir = tmp_path / "model"
    out = _run("mlops.ocr.train", str(data / "manifest.json"), "--out", str(model_dir), "--backbone", "test_resnet",
               "--img-height", "32", "--img-width", "96", "--epochs", "2", "--batch-size", "8", "--no-augment",
               "--log-every-steps", "2", "--backbone-kwargs", '{"drop_rate": 0.1}')
    result = json.loads(out.stdout)
    assert result["epochs_run"] == 2 and result["max_len"] == 4
    assert set(result["charset"]) == set("ab12")
    events = [json.loads(line) for line in out.stderr.splitlines() if line.startswith("{")]
    assert [e["epoch"] for e in events if e["event"] == "epoch"] == [1, 2]
    meta = json.loads((model_dir / "ocr_model.json").read_text())
    assert meta["config"]["backbone_kwargs"] == {"drop_rate": 0.1}
    assert (model_dir / "model.safetensors").exists()

    report_path = tmp_path / "report.json"
    out = _run("mlops.ocr.evaluate", str(model_dir), str(data / "manifest.json"), "--split", "test",
               "--device", "cpu", "--json", str(report_path))
    report = json.loads(out.stdout)
    assert report["n"] == 8 and 0 <= report["seq_acc"] <= 1 and 0 <= report["char_acc"] <= 1
    assert json.loads(report_path.read_text())["n"] == 8


def test_train_cli_rejects_bad_config(tmp_path):
    (tmp_path / "labels.csv").write_text("filename,text\n")
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.run([sys.executable, "-m", "mlops.ocr.train", str(tmp_path), "--out", str(tmp_path / "m"),
                           "--optimizer", "lamb"], cwd=REPO, env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode != 0 and "optimizer" in proc.stderr
