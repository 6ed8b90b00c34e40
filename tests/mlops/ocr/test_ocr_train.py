"""Training end to end on CPU: accuracy, resume equivalence, cancellation, inference API."""

from __future__ import annotations

import io
import json
import time

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("timm")

from safetensors.torch import load_file  # noqa: E402

from mlops.ocr import TrainConfig, TrainingCancelled  # noqa: E402
from mlops.ocr.api import evaluate, load_model, predict, train  # noqa: E402

pytestmark = pytest.mark.ml

# A small BatchNorm net at 32x96 trains far faster on CPU than an NFNet.
FAST = dict(backbone="test_resnet", img_height=32, img_width=96, in_chans=1, batch_size=16, lr=2e-3,
            num_workers=2, seed=0)


def test_trains_to_stated_accuracy(captcha_data, tmp_path):
    """600 labelled 4-digit CAPTCHAs, 12 epochs, held-out test set of 300.

    Measured on this project's 2-core machine, 9 runs with fresh CAPTCHAs
    each: test sequence accuracy 0.36-0.48, character accuracy 0.79-0.84;
    15-23 s of training when the machine was quiet, up to 115 s when other
    jobs shared its cores.  The asserts keep a wide margin below those figures.
    """
    events = []
    cfg = TrainConfig(**FAST, epochs=12, log_every_steps=20)
    t0 = time.perf_counter()
    result = train(cfg, captcha_data["train"], captcha_data["val"], tmp_path / "model",
                   progress_callback=events.append)
    elapsed = time.perf_counter() - t0
    model = load_model(result.model_dir)
    report = evaluate(model, captcha_data["test"])
    print(f"test seq_acc={report['seq_acc']:.3f} char_acc={report['char_acc']:.3f} train {elapsed:.1f}s")
    assert report["char_acc"] >= 0.65
    assert report["seq_acc"] >= 0.25
    assert elapsed < 300  # a guard against pathological slowness, not a benchmark

    # Result and sidecar are complete enough to reload the model from the directory alone.
    assert result.epochs_run == 12 or result.stopped_early
    assert result.charset == "0123456789" and result.max_len == 4
    assert (result.img_height, result.img_width) == (32, 96)
    assert result.device == "cpu"
    assert 0 <= result.metrics["val_seq_acc"] <= 1
    meta = json.loads(open(result.metadata_path).read())
    assert meta["charset"] == "0123456789" and meta["config"]["backbone"] == "test_resnet"
    # Progress: step events every 20 steps and one epoch event per epoch.
    epochs = [e for e in events if e["event"] == "epoch"]
    assert len(epochs) == result.epochs_run
    assert {"epoch", "step", "loss", "val_seq_acc", "val_char_acc", "images_per_s", "lr"} <= set(epochs[-1])
    assert any(e["event"] == "step" for e in events)

    # predict() accepts paths, bytes and PIL images and reports confidences.
    from PIL import Image

    path, text = captcha_data["test"][0]
    raw = open(path, "rb").read()
    outs = predict(model, [path, raw, Image.open(io.BytesIO(raw))], batch_size=2)
    assert outs[0]["text"] == outs[1]["text"] == outs[2]["text"]
    # Same image, different batch position: equal up to float rounding.
    assert outs[0]["confidence"] == pytest.approx(outs[2]["confidence"], rel=1e-4)
    assert len(outs[0]["char_confidences"]) == len(outs[0]["text"])
    assert 0.0 < outs[0]["confidence"] <= min(outs[0]["char_confidences"]) + 1e-6
    tta = evaluate(model, captcha_data["test"][:50], tta=True)
    assert tta["n"] == 50 and 0 <= tta["seq_acc"] <= 1
    assert all(len(pair) == 3 for pair in report["confusion_pairs"])


def _weights(model_dir, name="last.safetensors"):
    return load_file(str(model_dir / name))


def test_resume_matches_uninterrupted_run(tiny_data, tmp_path):
    samples = tiny_data["samples"]
    train_s, val_s = samples[:40], samples[40:]
    cfg = TrainConfig(**{**FAST, "batch_size": 8}, epochs=3, deterministic=True, early_stop_seq_acc=None)

    full = train(cfg, train_s, val_s, tmp_path / "full")

    calls = {"n": 0}

    def stop_mid_epoch_two():
        calls["n"] += 1
        return calls["n"] == 8  # 5 steps per epoch: cancel at step 3 of epoch 2

    with pytest.raises(TrainingCancelled) as info:
        train(cfg, train_s, val_s, tmp_path / "resumed", should_stop=stop_mid_epoch_two)
    assert info.value.step == 7
    resumed = train(cfg, train_s, val_s, tmp_path / "resumed", resume=True)

    a, b = _weights(tmp_path / "full"), _weights(tmp_path / "resumed")
    assert a.keys() == b.keys()
    for k in a:
        assert torch.equal(a[k], b[k]), k
    assert resumed.epochs_run == full.epochs_run == 3
    assert resumed.metrics["val_seq_acc"] == full.metrics["val_seq_acc"]
    for ha, hb in zip(full.history, resumed.history):
        assert ha["val_char_acc"] == hb["val_char_acc"]
        assert ha["train_loss"] == pytest.approx(hb["train_loss"], rel=1e-5)

    assert not torch.are_deterministic_algorithms_enabled()  # global switch restored after train()

    # A finished run is not retrained; an incompatible config starts afresh.
    again = train(cfg, train_s, val_s, tmp_path / "resumed", resume=True)
    assert again.epochs_run == 3 and again.history == resumed.history
    changed = train(cfg.replace(epochs=1), train_s, val_s, tmp_path / "resumed", resume=True)
    assert changed.epochs_run == 1


def test_nfnet_trains_with_agc_and_sgd(tiny_data, tmp_path):
    # Exercises the adaptive-gradient-clipping path and the SGD optimizer.
    cfg = TrainConfig(backbone="test_nfnet", img_height=32, img_width=96, batch_size=16, epochs=1,
                      optimizer="sgd", lr=0.05, warmup_steps=1, agc_clip=0.01, augment=False)
    result = train(cfg, tiny_data["samples"], [], tmp_path / "nf")
    assert result.epochs_run == 1 and result.metrics["train_loss"] > 0
    assert (tmp_path / "nf" / "model.safetensors").exists()
    preds = predict(load_model(tmp_path / "nf"), [tiny_data["samples"][0][0]])
    assert isinstance(preds[0]["text"], str)
