"""The money rule of data dividends: what a usage row costs, the workers' share, and how it is split.

Reads only (no writes): the billing service (mlops.services.dividends), the client's usage page and the
console use the same arithmetic. See mlops/services/dividends.py for the rule in words.
"""

from __future__ import annotations

from decimal import ROUND_DOWN, Decimal

from .models import PredictionUsage

PLACES = Decimal("0.0001")
UNITS = 10_000  # ten-thousandths per currency unit


def split_largest_remainder(total: Decimal, weights: dict[int, int]) -> dict[int, Decimal]:
    """Split `total` (4 places) in proportion to integer `weights`; parts are multiples of 0.0001 summing exactly to `total`.

    Keys with a zero part are left out. Deterministic: remainder ties go to the smaller key.
    """
    total = Decimal(total)
    if total != total.quantize(PLACES) or total < 0:
        raise ValueError("total must be a non-negative amount with at most 4 decimal places")
    weights = {key: int(w) for key, w in weights.items() if int(w) > 0}
    weight_sum = sum(weights.values())
    if total == 0 or weight_sum == 0:
        return {}
    units = int(total * UNITS)
    base = {key: units * w // weight_sum for key, w in weights.items()}
    left = units - sum(base.values())
    by_remainder = sorted(weights, key=lambda key: (-(units * weights[key] % weight_sum), key))
    for key in by_remainder[:left]:
        base[key] += 1
    return {key: Decimal(n) / UNITS for key, n in base.items() if n}


def usage_amounts(usage: PredictionUsage) -> tuple[Decimal, Decimal, Decimal]:
    """(amount, share, fee) of a usage row."""
    amount = (usage.predictions * usage.unit_price).quantize(PLACES)
    share = (amount * usage.revenue_share_pct / 100).quantize(PLACES, rounding=ROUND_DOWN)
    return amount, share, amount - share
