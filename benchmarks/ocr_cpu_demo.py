#!/usr/bin/env python
"""The README's laptop loop on the CPU, without Django: does a recipe reach 95 % on 600 labelled 4-digit CAPTCHAs?

Draws 600 labelled CAPTCHAs (the demo's 160x60 ``captcha`` images), splits them
as a snapshot does by default (80 % train, 10 % validation, 10 % test), trains
one recipe with ``mlops.ocr.train`` under a wall-clock cap and scores the best
checkpoint on 200 fresh held-out CAPTCHAs (what ``ocr_demo_project --test-count
200`` writes). Prints one JSON line per epoch (elapsed, loss, validation) and a
final JSON summary. ``--label-noise`` flips that share of training labels
(consensus of simulated workers is not perfect).

    python benchmarks/ocr_cpu_demo.py --backbone resnet10t --epochs 60 --max-minutes 15
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def captchas(texts):
    from captcha.image import ImageCaptcha

    gen = ImageCaptcha(width=160, height=60)
    return [(gen.generate(t).getvalue(), t) for t in texts]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=600)
    parser.add_argument("--test-count", type=int, default=200)
    parser.add_argument("--label-noise", type=float, default=0.0)
    parser.add_argument("--max-minutes", type=float, default=15.0)
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    parser.add_argument("--config", default="{}", help="extra TrainConfig fields as JSON")
    parser.add_argument("--backbone", default="resnet10t")
    parser.add_argument("--epochs", type=int, default=60)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    import torch

    import mlops.ocr as ocr
    from mlops.ocr import TrainConfig

    if args.threads:
        torch.set_num_threads(args.threads)
    rng = random.Random(args.seed)
    texts = ["".join(rng.choice("0123456789") for _ in range(4)) for _ in range(args.count + args.test_count)]
    t0 = time.perf_counter()
    data = captchas(texts)
    labelled, test = data[: args.count], data[args.count:]
    n_test = n_val = round(args.count * 0.1)
    test_split, val, train = labelled[:n_test], labelled[n_test:n_test + n_val], labelled[n_test + n_val:]
    noisy = 0
    for i, (image, text) in enumerate(train):
        if rng.random() < args.label_noise:
            train[i] = (image, text[:-1] + str((int(text[-1]) + 1) % 10))
            noisy += 1
    print(json.dumps({"generated_s": round(time.perf_counter() - t0, 1), "train": len(train), "val": len(val),
                      "test_split": len(test_split), "fresh_test": len(test), "noisy_train_labels": noisy}), flush=True)
    config = TrainConfig.from_dict({
        "backbone": args.backbone, "epochs": args.epochs, "device": "cpu", "seed": args.seed,
        **json.loads(args.config),
    })
    deadline = time.monotonic() + args.max_minutes * 60

    def progress(event):
        if event["event"] == "epoch":
            print(json.dumps({k: (round(v, 4) if isinstance(v, float) else v) for k, v in event.items()
                              if k in ("epoch", "step", "loss", "val_seq_acc", "val_char_acc", "images_per_s", "elapsed_s")}),
                  flush=True)

    out = tempfile.mkdtemp(prefix="ocr-cpu-demo-")
    try:
        result = ocr.train(config, train, val, out, resume=False, progress_callback=progress,
                           should_stop=lambda: time.monotonic() > deadline)
        capped = False
    except ocr.TrainingCancelled:
        capped = True
        result = None
    model = ocr.load_model(out, device="cpu")
    fresh = ocr.evaluate(model, test)
    split = ocr.evaluate(model, test_split)
    print(json.dumps({
        "config": {k: v for k, v in config.to_dict().items() if k in (
            "backbone", "img_height", "img_width", "in_chans", "epochs", "batch_size", "lr", "augment", "head", "output_stride")},
        "capped_at_minutes": args.max_minutes if capped else None,
        "train_seconds": round(result.wall_time_s, 1) if result else None,
        "best_epoch": result.best_epoch if result else None,
        "fresh_test_seq_acc": fresh["seq_acc"], "fresh_test_char_acc": fresh["char_acc"],
        "test_split_seq_acc": split["seq_acc"], "threads": torch.get_num_threads(),
    }), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
