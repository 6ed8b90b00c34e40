"""Data dividends: bill clients for model usage and credit the workers whose labels made the model.

Money rule, per PredictionUsage row (one client, one model version, one day),
billed once the day is over:

    amount  = predictions × unit_price                         (exact, 4 places)
    share   = amount × revenue_share_pct / 100, rounded down to 4 places
    fee     = amount − share                                    (to the co-op)

`share` is split among the model's contributors in proportion to their
accepted-label counts in its snapshot, by the largest-remainder method at
4 decimal places: each gets floor(share × count / total) ten-thousandths, and
the ten-thousandths left over go one each to the largest remainders (ties to
the lower worker id). The parts sum to exactly `share`.

Ledger (see marketplace/ledger/__init__.py for signs), kind "dividend",
event key "dividend:usage:<row id>" (a retry posts nothing twice):

    client_cash (debit amount) → worker_earnings of each contributor (credit part)
                               + coop_fees (credit fee)

When the client's cash does not cover the amount the row stays unbilled (its
`billing_error` says why); the inference API already refuses new predictions
while unbilled usage exceeds the balance, and the next billing run tries again.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from coop.errors import ApplicationError
from coop.models import User
from marketplace.ledger.services import dividend_post

from ..dividend_shares import PLACES, UNITS, split_largest_remainder, usage_amounts  # noqa: F401  (re-exported)
from ..models import DatasetContributor, PredictionUsage


def usage_bill(*, usage_id: int):
    """Bill one usage row (see the module docstring). Returns the ledger transaction, or None when nothing is billed.

    Locks the usage row; the ledger's dividend_post then locks the client's cash account before reading the balance.
    """
    with transaction.atomic():
        usage = PredictionUsage.objects.select_for_update(of=("self",)).select_related("organization", "model_version").get(pk=usage_id)
        if usage.billed_at is not None or usage.unit_price <= 0 or usage.predictions == 0:
            return usage.ledger_transaction
        amount, share, _fee = usage_amounts(usage)
        if amount <= 0:
            return None
        weights = dict(
            DatasetContributor.objects.filter(snapshot_id=usage.model_version.snapshot_id).values_list("worker_id", "label_count")
        )
        parts = split_largest_remainder(share, weights)  # nobody to credit (e.g. only client-provided labels): all is the co-op's
        workers = User.objects.in_bulk(list(parts))
        try:
            posted = dividend_post(
                event_key=f"dividend:usage:{usage.pk}",
                organization=usage.organization,
                currency=usage.currency,
                amount=amount,
                parts={workers[worker_id]: part for worker_id, part in parts.items()},
                description=(
                    f"{usage.predictions} predictions of {usage.model_version} on {usage.day:%Y-%m-%d}; "
                    f"{usage.revenue_share_pct}% data dividend to {len(parts)} contributor(s)"
                )[:300],
            )
        except ApplicationError as error:
            if error.code != "insufficient_funds":
                raise
            PredictionUsage.objects.filter(pk=usage.pk).update(billing_error=error.message[:300])
            return None
        PredictionUsage.objects.filter(pk=usage.pk).update(ledger_transaction=posted, billed_at=timezone.now(), billing_error="")
        return posted


def usage_bill_due(*, today: dt.date | None = None) -> dict:
    """Bill every unbilled, priced usage row of a day before `today`. Idempotent; returns counts."""
    today = today or timezone.localdate()
    due = PredictionUsage.objects.filter(billed_at__isnull=True, unit_price__gt=0, predictions__gt=0, day__lt=today).order_by("pk")
    billed = refused = 0
    for usage_id in list(due.values_list("pk", flat=True)):
        try:
            posted = usage_bill(usage_id=usage_id)
        except ApplicationError as error:
            PredictionUsage.objects.filter(pk=usage_id).update(billing_error=error.message[:300])
            refused += 1
            continue
        if posted is None:
            refused += 1
        else:
            billed += 1
    return {"billed": billed, "unbilled": refused}
