"""Command line: ``python -m mlops.ocr.train DATA --out MODEL_DIR [options]``.

``DATA`` is a dataset directory, labels file or manifest (see README.md).  A
manifest's ``train``/``val`` splits are used as given; otherwise ``--val``
names a validation dataset, or ``--val-fraction`` of the data is held out.

Every :class:`~mlops.ocr.config.TrainConfig` field is a flag
(``--batch-size 32``, ``--no-augment``, ``--backbone-kwargs '{"drop_rate": 0.1}'``);
``--config FILE.json`` loads a saved config first.  Progress goes to stderr as
JSON lines, the final result to stdout as JSON.  SIGINT/SIGTERM stop cleanly
after writing a checkpoint (exit code 130); running the same command again
resumes.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import signal
import sys
from typing import Any

from .config import TrainConfig, TrainingCancelled
from .datasets import load_dataset, split_samples


def _field_parser(annotation: str):
    base = annotation.replace(" | None", "").strip()
    parse = json.loads if base.startswith("dict") else {"int": int, "float": float, "str": str}.get(base, str)
    if "None" not in annotation:
        return parse

    def optional(text: str):  # "none" clears an optional field, e.g. --early-stop-seq-acc none
        return None if text.lower() in ("none", "null") else parse(text)

    optional.__name__ = parse.__name__
    return optional


def _add_config_flags(p: argparse.ArgumentParser) -> None:
    group = p.add_argument_group("training config (TrainConfig fields; default: the dataclass default)")
    for f in dataclasses.fields(TrainConfig):
        flag = "--" + f.name.replace("_", "-")
        if f.type == "bool":
            group.add_argument(flag, dest=f.name, action=argparse.BooleanOptionalAction, default=argparse.SUPPRESS)
        else:  # SUPPRESS: absent flags stay out of the namespace, so "none" can still clear a field
            group.add_argument(flag, dest=f.name, type=_field_parser(str(f.type)), default=argparse.SUPPRESS,
                               metavar=f.name.upper())


def build_config(args: argparse.Namespace) -> TrainConfig:
    """Merge ``--config`` file and explicit flags into a TrainConfig."""
    base: dict[str, Any] = {}
    if args.config:
        with open(args.config, encoding="utf-8") as fh:
            base = json.load(fh)
        base = base.get("config", base)  # accept an ocr_model.json sidecar too
    given = vars(args)
    for f in dataclasses.fields(TrainConfig):
        if f.name in given:
            base[f.name] = given[f.name]
    return TrainConfig.from_dict(base)


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    p = argparse.ArgumentParser(prog="python -m mlops.ocr.train", description=__doc__.split("\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("data", help="dataset directory, labels.csv/.jsonl or manifest.json")
    p.add_argument("--out", required=True, help="model directory to write (and resume from)")
    p.add_argument("--val", help="validation dataset (default: the manifest's val split or --val-fraction)")
    p.add_argument("--val-fraction", type=float, default=0.1)
    p.add_argument("--config", help="JSON file with TrainConfig fields (or an ocr_model.json)")
    p.add_argument("--no-resume", action="store_true", help="ignore an existing checkpoint in --out")
    p.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    _add_config_flags(p)
    args = p.parse_args(argv)
    try:
        config = build_config(args)
    except (ValueError, TypeError) as exc:
        p.error(f"invalid training config: {exc}")

    data = load_dataset(args.data)
    train_samples = data.get("train") or data.get("all")
    if train_samples is None:
        p.error(f"{args.data}: no 'train' split")
    if args.val:
        val_data = load_dataset(args.val)
        val_samples = val_data.get("val") or val_data.get("all") or []
    elif "val" in data:
        val_samples = data["val"]
    else:
        train_samples, val_samples = split_samples(train_samples, args.val_fraction, config.seed)

    stop = {"flag": False}

    def _request_stop(signum, frame):  # finish the current step, checkpoint, exit 130
        stop["flag"] = True

    signal.signal(signal.SIGINT, _request_stop)
    signal.signal(signal.SIGTERM, _request_stop)

    def report(event: dict[str, Any]) -> None:
        if not args.quiet:
            print(json.dumps(event), file=sys.stderr, flush=True)

    from .trainer import train  # torch is imported only now, after argument errors had their chance

    try:
        result = train(config, train_samples, val_samples, args.out, resume=not args.no_resume,
                       progress_callback=report, should_stop=lambda: stop["flag"])
    except TrainingCancelled as exc:
        print(json.dumps({"cancelled": True, "epoch": exc.epoch, "step": exc.step,
                          "checkpoint_dir": exc.checkpoint_dir}))
        return 130
    summary = result.to_dict()
    summary.pop("history")
    print(json.dumps(summary, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
