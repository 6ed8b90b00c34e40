"""Command line: ``python -m mlops.ocr.evaluate MODEL_DIR DATA [options]``.

Scores a trained model directory on a dataset (directory, labels file or
manifest; ``--split`` picks a manifest split, default ``test``).  Prints a
JSON report (seq_acc, char_acc, confusion pairs, first errors) and writes it
to ``--json`` when given.
"""

from __future__ import annotations

import argparse
import json
import sys

from .datasets import load_dataset


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    p = argparse.ArgumentParser(prog="python -m mlops.ocr.evaluate", description=__doc__.split("\n")[0])
    p.add_argument("model_dir")
    p.add_argument("data", help="dataset directory, labels.csv/.jsonl or manifest.json")
    p.add_argument("--split", default="test", help="manifest split to score (default: test)")
    p.add_argument("--device", default="auto", help="auto, cpu or cuda")
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--tta", action="store_true", help="average predictions over shifted views")
    p.add_argument("--top-k", type=int, default=20, help="number of confusion pairs to list")
    p.add_argument("--json", help="also write the report to this file")
    a = p.parse_args(argv)

    data = load_dataset(a.data)
    samples = data.get(a.split) if "all" not in data else data["all"]
    if samples is None:
        p.error(f"{a.data}: no split {a.split!r} (has: {', '.join(data)})")

    from .inference import evaluate, load_model  # heavy imports after argument parsing

    model = load_model(a.model_dir, device=a.device)
    report = evaluate(model, samples, batch_size=a.batch_size, tta=a.tta, top_k=a.top_k)
    report["model_dir"] = a.model_dir
    report["split"] = a.split if "all" not in data else "all"
    text = json.dumps(report, indent=2, ensure_ascii=False)
    if a.json:
        with open(a.json, "w", encoding="utf-8") as fh:
            fh.write(text + "\n")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
