#!/usr/bin/env python
"""Benchmark of the OCR core (mlops/ocr) on a GPU: throughput and label efficiency.

Measures, for each backbone (default ``eca_nfnet_l0``) and each config
variant (``--variants``, e.g. this package's attention heads at output
stride 16 against the classic global-pool heads at stride 32):

1. training and inference images/s at several batch sizes (bf16 autocast,
   channels-last off/on) on synthetic tensors, including AGC and the
   optimizer step, i.e. the model's cost without data loading;
2. a learning curve: train on 500 / 1,000 / 2,000 / 4,000 labelled CAPTCHAs
   (10% of each budget held out for validation and early stopping at 100%),
   then score the best checkpoint on a separate test set (>= 2,000 fresh
   CAPTCHAs) with and without test-time augmentation; records the wall time
   until validation first reached 100%.

Needs only torch, timm, pillow and numpy (plus safetensors) when given a
dataset; ``captcha`` is needed only to generate one.  Make one elsewhere with::

    python -m mlops.ocr.generate benchmarks/data/cap6 --splits train=4000,test=2000 \\
        --length 6 --width 192 --height 64 --image-format jpg --workers 2

then run, e.g.::

    python benchmarks/ocr_gpu.py --data benchmarks/data/cap6 --out results.json
    python benchmarks/ocr_gpu.py --data benchmarks/data/cap6 --out cmp.json --phases curve \
        --label-counts 500,1000 --variants '[{}, {"head": "avg", "output_stride": null}]'
    python benchmarks/ocr_gpu.py --quick --out /tmp/quick.json     # CPU smoke test

Results are written to ``--out`` (JSON) after every measurement, so a run cut
short still leaves what it measured; a markdown summary is printed at the end.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import timm  # noqa: E402
import torch  # noqa: E402
from timm.utils import adaptive_clip_grad  # noqa: E402

from mlops.ocr import TrainConfig, TrainingCancelled  # noqa: E402
from mlops.ocr.datasets import load_dataset, split_samples  # noqa: E402
from mlops.ocr.inference import autocast_context, evaluate, load_model, resolve_device  # noqa: E402
from mlops.ocr.model import build_model, is_norm_free, param_groups, sequence_loss  # noqa: E402
from mlops.ocr.trainer import train  # noqa: E402


def _ints(text: str) -> list[int]:
    return [int(x) for x in text.split(",") if x.strip()]


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def env_info(device: torch.device) -> dict:
    info = {"torch": torch.__version__, "timm": timm.__version__, "python": platform.python_version(),
            "device": str(device), "cpu_count": os.cpu_count()}
    if device.type == "cuda":
        info["gpu"] = torch.cuda.get_device_name(device)
        info["cuda"] = torch.version.cuda
    return info


def throughput(label: str, cfg: TrainConfig, charset: str, max_len: int, batch_size: int, device: torch.device,
               steps: int, warmup: int) -> dict:
    """Training and inference images/s of one backbone at one batch size on random tensors."""
    out = {"model": label, "backbone": cfg.backbone, "batch_size": batch_size, "bf16": cfg.bf16 and device.type == "cuda",
           "channels_last": cfg.channels_last and device.type == "cuda"}
    try:
        model = build_model(cfg, charset, max_len, cfg.img_height, cfg.img_width).to(device)
        fmt = torch.channels_last if out["channels_last"] else torch.contiguous_format
        model = model.to(memory_format=fmt)
        opt = torch.optim.AdamW(param_groups(model, cfg.weight_decay), lr=cfg.lr)
        backbone_params = list(model.backbone.parameters())
        x = torch.randn(batch_size, cfg.in_chans, cfg.img_height, cfg.img_width, device=device)
        x = x.contiguous(memory_format=fmt)
        y = torch.randint(0, len(charset) + 1, (batch_size, max_len), device=device)
        if device.type == "cuda":
            torch.cuda.reset_peak_memory_stats(device)

        def train_step():
            with autocast_context(device, cfg.bf16):
                logits = model(x)
            loss = sequence_loss(logits, y, cfg.label_smoothing)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            if is_norm_free(cfg.backbone) and cfg.agc_clip > 0:
                adaptive_clip_grad(backbone_params, clip_factor=cfg.agc_clip)
            opt.step()

        model.train()
        for _ in range(warmup):
            train_step()
        _sync(device)
        t0 = time.perf_counter()
        for _ in range(steps):
            train_step()
        _sync(device)
        out["train_images_per_s"] = batch_size * steps / (time.perf_counter() - t0)
        if device.type == "cuda":
            out["train_peak_mem_gb"] = torch.cuda.max_memory_allocated(device) / 2**30

        model.eval()
        with torch.inference_mode():
            for _ in range(warmup):
                with autocast_context(device, cfg.bf16):
                    model(x)
            _sync(device)
            t0 = time.perf_counter()
            for _ in range(steps):
                with autocast_context(device, cfg.bf16):
                    model(x)
            _sync(device)
        out["infer_images_per_s"] = batch_size * steps / (time.perf_counter() - t0)
    except torch.cuda.OutOfMemoryError:
        out["error"] = "out of memory"
    finally:
        if device.type == "cuda":
            torch.cuda.empty_cache()
    return out


def curve_point(label: str, cfg: TrainConfig, pool: list, test: list, n_labels: int, val_fraction: float,
                work: Path, max_seconds: float | None, min_steps: int) -> dict:
    """Train on the first ``n_labels`` samples of the pool and score on the test set."""
    labelled = pool[:n_labels]
    train_s, val_s = split_samples(labelled, val_fraction, cfg.seed)
    # Small label budgets get more epochs: from-scratch nets need a minimum
    # number of optimizer steps whatever the dataset size.
    steps_per_epoch = max(1, len(train_s) // cfg.batch_size)
    cfg = cfg.replace(epochs=max(cfg.epochs, math.ceil(min_steps / steps_per_epoch)))
    out_dir = work / f"{cfg.backbone}_{hashlib.sha1(label.encode()).hexdigest()[:8]}_{n_labels}"
    t0 = time.perf_counter()
    epoch_ips = []

    def on_progress(event: dict) -> None:
        if event["event"] == "epoch":
            epoch_ips.append(event["images_per_s"])

    def over_budget() -> bool:
        return max_seconds is not None and time.perf_counter() - t0 > max_seconds

    point = {"model": label, "backbone": cfg.backbone, "labels": n_labels, "train": len(train_s), "val": len(val_s),
             "max_epochs": cfg.epochs}
    try:
        result = train(cfg, train_s, val_s, out_dir, resume=False, progress_callback=on_progress,
                       should_stop=over_budget)
        point.update(epochs_run=result.epochs_run, stopped_early=result.stopped_early,
                     wall_time_s=result.wall_time_s, val_seq_acc=result.metrics.get("val_seq_acc"))
        history = result.history
    except TrainingCancelled:
        state = torch.load(out_dir / "train_state.pt", map_location="cpu", weights_only=False)
        history = state["history"]
        point.update(epochs_run=state["epoch"], stopped_early=False, wall_time_s=time.perf_counter() - t0,
                     budget_exhausted=True, val_seq_acc=state["best"].get("val_seq_acc"))
    first_100 = next((h for h in history if h.get("val_seq_acc", 0) >= 1.0), None)
    point["time_to_val_100_s"] = first_100["elapsed_s"] if first_100 else None
    point["epoch_val_100"] = first_100["epoch"] if first_100 else None
    point["train_images_per_s"] = sum(epoch_ips) / len(epoch_ips) if epoch_ips else None
    point["val_history"] = [[h["epoch"], round(h["elapsed_s"], 2), h.get("val_seq_acc")] for h in history]
    if (out_dir / "model.safetensors").exists():
        model = load_model(out_dir, device=cfg.device)
        plain = evaluate(model, test, batch_size=256, top_k=5)
        point.update(test_n=plain["n"], test_seq_acc=plain["seq_acc"], test_char_acc=plain["char_acc"],
                     test_confusions=plain["confusion_pairs"])
        point["test_seq_acc_tta"] = evaluate(model, test, batch_size=256, tta=True)["seq_acc"]
    return point


def markdown(results: dict) -> str:
    lines = ["## Throughput (synthetic batches; train step includes AGC + AdamW)", "",
             "| model | bf16 | channels-last | batch | train img/s | infer img/s | train peak GB |",
             "|---|---|---|---|---|---|---|"]
    for r in results["throughput"]:
        if "error" in r:
            lines.append(f"| {r['model']} | {r['bf16']} | {r['channels_last']} | {r['batch_size']} | "
                         f"{r['error']} | | |")
            continue
        mem = f"{r['train_peak_mem_gb']:.1f}" if "train_peak_mem_gb" in r else "-"
        lines.append(f"| {r['model']} | {r['bf16']} | {r['channels_last']} | {r['batch_size']} | "
                     f"{r['train_images_per_s']:.0f} | {r['infer_images_per_s']:.0f} | {mem} |")
    lines += ["", f"## Learning curve (test set: {results['settings']['test_size']} fresh CAPTCHAs)", "",
              "| model | labels (train+val) | epochs | 100% val at | wall s | test seq acc | test char acc | "
              "test seq acc (TTA) |", "|---|---|---|---|---|---|---|---|"]

    def pct(v):
        return "-" if v is None else f"{100 * v:.2f}%"

    for p in results["curve"]:
        at = "not reached" if p["time_to_val_100_s"] is None else f"ep {p['epoch_val_100']}, {p['time_to_val_100_s']:.0f} s"
        lines.append(f"| {p['model']} | {p['labels']} ({p['train']}+{p['val']}) | {p['epochs_run']} | {at} | "
                     f"{p['wall_time_s']:.0f} | {pct(p.get('test_seq_acc'))} | {pct(p.get('test_char_acc'))} | "
                     f"{pct(p.get('test_seq_acc_tta'))} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--out", required=True, help="JSON results path")
    p.add_argument("--data", help="dataset (manifest with 'train' pool and 'test' split); generated if absent")
    p.add_argument("--workdir", help="where models (and a generated dataset) go; default: a temp dir")
    p.add_argument("--quick", action="store_true", help="tiny settings for a CPU smoke test")
    p.add_argument("--device", default="auto")
    p.add_argument("--backbones", default="eca_nfnet_l0", help="comma-separated timm names")
    p.add_argument("--phases", default="throughput,curve")
    p.add_argument("--batch-sizes", type=_ints, default=[32, 64, 128, 256])
    p.add_argument("--channels-last", choices=("off", "on", "both"), default="both")
    p.add_argument("--steps", type=int, default=20, help="timed steps per throughput measurement")
    p.add_argument("--label-counts", type=_ints, default=[500, 1000, 2000, 4000])
    p.add_argument("--test-size", type=int, default=2000)
    p.add_argument("--val-fraction", type=float, default=0.1)
    p.add_argument("--length", type=int, default=6)
    p.add_argument("--charset", default="0123456789")
    p.add_argument("--img-height", type=int, default=64)
    p.add_argument("--img-width", type=int, default=192)
    p.add_argument("--epochs", type=int, default=150, help="maximum epochs per curve point")
    p.add_argument("--min-steps", type=int, default=6000, help="raise max epochs to reach this many steps")
    p.add_argument("--train-batch-size", type=int, default=64)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--max-minutes-per-run", type=float, help="stop a curve point after this long")
    p.add_argument("--config", default="{}", help="TrainConfig fields (JSON) applied to every run")
    p.add_argument("--variants", default="[{}]",
                   help='JSON list of TrainConfig overrides to compare, e.g. \'[{}, {"head": "avg", "output_stride": null}]\'')
    a = p.parse_args(argv)
    if a.quick:  # a few seconds per phase on 2 CPU cores
        a.batch_sizes, a.steps, a.label_counts, a.test_size = [4, 8], 2, [40, 80], 40
        a.img_height, a.img_width, a.epochs, a.train_batch_size, a.length, a.min_steps = 32, 96, 2, 8, 4, 0
        a.channels_last = "off"

    device = resolve_device(a.device)
    work = Path(a.workdir or tempfile.mkdtemp(prefix="ocr_bench_"))
    work.mkdir(parents=True, exist_ok=True)
    phases = set(a.phases.split(","))
    results = {"env": env_info(device), "settings": {k: v for k, v in vars(a).items()}, "throughput": [], "curve": []}

    def save() -> None:
        Path(a.out).write_text(json.dumps(results, indent=2) + "\n")

    base = TrainConfig(img_height=a.img_height, img_width=a.img_width, charset=a.charset, max_len=a.length,
                       epochs=a.epochs, batch_size=a.train_batch_size, lr=a.lr, device=str(device.type),
                       log_every_steps=10**9, **json.loads(a.config))
    # Each (backbone, variant) pair is one "model" row in the tables.
    models = [(b if not v else f"{b} {json.dumps(v, sort_keys=True)}", base.replace(backbone=b, **v))
              for b in a.backbones.split(",") if b for v in json.loads(a.variants)]
    if "throughput" in phases:
        modes = {"off": [False], "on": [True], "both": [False, True]}[a.channels_last] if device.type == "cuda" else [False]
        for label, model_cfg in models:
            for cl in modes:
                for bs in a.batch_sizes:
                    cfg = model_cfg.replace(channels_last=cl)
                    r = throughput(label, cfg, a.charset, a.length, bs, device, a.steps, max(1, a.steps // 4))
                    print(json.dumps(r), flush=True)
                    results["throughput"].append(r)
                    save()

    if "curve" in phases:
        data_path = a.data
        if data_path is None:
            from mlops.ocr.generate import generate_dataset  # needs the optional captcha package

            data_path = str(work / "data")
            generate_dataset(data_path, splits={"train": max(a.label_counts), "test": a.test_size},
                             length=a.length, charset=a.charset, width=a.img_width, height=a.img_height,
                             seed=1, workers=os.cpu_count() or 1)
        data = load_dataset(data_path)
        pool, test = data["train"], data["test"][:a.test_size]
        results["settings"]["test_size"] = len(test)
        if len(pool) < max(a.label_counts):
            p.error(f"train pool has {len(pool)} samples, need {max(a.label_counts)}")
        for label, model_cfg in models:
            for n in a.label_counts:
                budget = a.max_minutes_per_run * 60 if a.max_minutes_per_run else None
                point = curve_point(label, model_cfg, pool, test, n, a.val_fraction, work, budget,
                                    a.min_steps)
                print(json.dumps({k: v for k, v in point.items() if k != "val_history"}), flush=True)
                results["curve"].append(point)
                save()
    results["settings"].setdefault("test_size", a.test_size)
    save()
    print(markdown(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
