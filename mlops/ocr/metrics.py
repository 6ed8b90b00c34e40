"""Accuracy metrics on predicted vs. true strings (torch-free)."""

from __future__ import annotations

from collections import Counter
from typing import Any, Sequence


def text_metrics(truths: Sequence[str], preds: Sequence[str], top_k: int = 20) -> dict[str, Any]:
    """Sequence accuracy, per-character accuracy and the most frequent confusions.

    Characters are compared position by position over ``max(len(true),
    len(pred))`` positions, so a missing or extra character counts as an
    error.  In ``confusion_pairs`` an empty string stands for "no character"
    (e.g. ``["7", "", 3]``: a true "7" was dropped three times).
    """
    if len(truths) != len(preds):
        raise ValueError("truths and preds differ in length")
    n = len(truths)
    seq_ok = chars_ok = chars_total = 0
    pairs: Counter[tuple[str, str]] = Counter()
    for t, p in zip(truths, preds):
        seq_ok += t == p
        width = max(len(t), len(p))
        chars_total += width
        for i in range(width):
            tc = t[i] if i < len(t) else ""
            pc = p[i] if i < len(p) else ""
            if tc == pc:
                chars_ok += 1
            else:
                pairs[(tc, pc)] += 1
    return {
        "n": n,
        "seq_acc": seq_ok / n if n else 0.0,
        "char_acc": chars_ok / chars_total if chars_total else 0.0,
        "confusion_pairs": [[tc, pc, c] for (tc, pc), c in pairs.most_common(top_k)],
    }
