"""What may be said about the raters behind some data, in aggregate: who they were and what they were paid.

One set of rules for every document that describes data (the project datasheet, marketplace.datasheet;
snapshot datasheets and model cards, mlops.cards), so they say the same thing in the same shape:

- Small cells: a count under SMALL_CELL (5) is never shown. Its raters are folded into "fewer_than_5"
  (how many raters sit in such cells) and "cells_suppressed" (how many cells), so no single rater's
  country or language can be read off a small pool. Totals (raters, raters in suppressed cells) are shown:
  without a cell they name no one.
- Pay: an answer's hourly pay is what its worker was credited for it (earning plus top-ups) over its
  measured active time. Answers without measured time (an API client that does not report it) are left
  out of the percentiles, as the pay review leaves them out (marketplace.services.payment.measured_seconds);
  `answers_paid` and `answers_measured` say how many answers the figures rest on. Each answer counts once
  however the caller reached it (through labels, say), and only accepted answers count. The share topped up
  is over the same paid answers, so a gold check topped up alongside them cannot push it past 1.

Memory stays bounded: one integer per measured answer (cents per hour), the ledger read a chunk at a time.
"""

from __future__ import annotations

from array import array
from collections import Counter
from collections.abc import Iterable, Mapping
from decimal import Decimal

from django.db.models import QuerySet

from coop.exports import chunked

from .ledger.models import LedgerTransaction, TransactionKind
from .ledger.selectors import paid_by_answer
from .models import Answer
from .transparency import percentile

SMALL_CELL = 5
CHUNK = 2000
SMALL_CELLS_NOTE = f"Counts under {SMALL_CELL} are not shown, to protect the raters' privacy."


def suppressed(counts: Mapping) -> dict:
    """{"counts": {key: n ≥ 5}, largest first, "fewer_than_5": raters in smaller cells, "cells_suppressed": how many cells}."""
    shown = {key: n for key, n in sorted(counts.items(), key=lambda kv: (-kv[1], str(kv[0]))) if n >= SMALL_CELL}
    hidden = [n for n in counts.values() if n < SMALL_CELL]
    return {"counts": shown, "fewer_than_5": sum(hidden), "cells_suppressed": len(hidden)}


def rater_pool(profiles: Iterable[tuple[str | None, list | None]]) -> dict:
    """{"raters", "countries", "languages"} (both suppressed) of (country, languages) pairs, one per rater."""
    countries, languages, raters = Counter(), Counter(), 0
    for country, spoken in profiles:
        raters += 1
        countries[country or "unknown"] += 1
        for language in {str(language) for language in (spoken or [])} or {"unknown"}:
            languages[language] += 1
    return {"raters": raters, "countries": suppressed(countries), "languages": suppressed(languages)}


def _money(cents: int | None) -> str | None:
    return None if cents is None else f"{Decimal(cents) / 100:.2f}"


def pay_summary(answers: QuerySet[Answer], *, currency: str) -> dict:
    """The pay behind `answers` (see the module docstring): {"currency", "answers_paid", "answers_measured",
    "median_hourly", "p10_hourly", "share_topped_up"}; amounts and the share are strings, None when nothing is known."""
    cents = array("q")
    paid_count = topped_count = 0
    rows = (
        Answer.objects.filter(pk__in=answers.values("pk"), status=Answer.Status.ACCEPTED)
        .order_by("pk")
        .values_list("pk", "active_seconds")
    )
    for chunk in chunked(rows.iterator(chunk_size=CHUNK), CHUNK):
        ids = [pk for pk, _ in chunk]
        paid = paid_by_answer(ids)
        topped = set(
            LedgerTransaction.objects.filter(answer_id__in=ids, kind=TransactionKind.TOP_UP).values_list("answer_id", flat=True)
        )
        for pk, seconds in chunk:
            if pk not in paid:
                continue  # accepted but still owed (escrow ran short): nothing paid to describe yet
            paid_count += 1
            topped_count += pk in topped
            if seconds:
                cents.append(int(paid[pk] * 360000 / seconds))  # amount / seconds × 3600, in cents
    ordered = sorted(cents)
    return {
        "currency": currency,
        "answers_paid": paid_count,
        "answers_measured": len(ordered),
        "median_hourly": _money(percentile(ordered, 50)),
        "p10_hourly": _money(percentile(ordered, 10)),
        "share_topped_up": f"{Decimal(topped_count) / paid_count:.3f}" if paid_count else None,
    }
