"""The earnings page's reads: a member's money at a glance and their pay per project.

They join the books (marketplace.ledger) with the work (answers, their measured time, the pay rules), so they
live above the ledger, not in its selectors, which read only the books.
"""

from __future__ import annotations

from django.db.models import Count, Q, Sum

from coop.models import User

from .ledger.models import AccountKind, LedgerEntry, TransactionKind
from .ledger.selectors import from_scaled, scaled_sum, scaled_sum_where, worker_balance
from .models import Answer, Project
from .pay import hourly_rate

K = AccountKind
T = TransactionKind


def worker_earnings_summary(user: User, currency: str = "USD") -> dict:
    """The worker's money at a glance, in four queries.

    Balances come from `worker_balance`. `accepted` and `top_ups` are what the
    ledger credited for accepted answers (earnings and top-ups). `pending` is
    the submitted answers not yet decided, valued at their project's pay per
    task: not money yet, so never in a balance. `accepted_unpaid` is accepted
    answers with no earning posted yet (still owed from escrow).
    """
    credited = dict(
        LedgerEntry.objects.filter(
            account__kind=K.WORKER_EARNINGS,
            account__user=user,
            account__currency=currency,
            transaction__kind__in=(T.EARNING, T.TOP_UP),
        )
        .values_list("transaction__kind")
        .annotate(total=scaled_sum())
        .values_list("transaction__kind", "total")
    )
    answers = Answer.objects.filter(worker=user, task__project__currency=currency).aggregate(
        pending_count=Count("id", filter=Q(status=Answer.Status.PENDING)),
        pending_value=scaled_sum_where("task__project__pay_per_task", Q(status=Answer.Status.PENDING)),
    )
    unpaid = (
        Answer.objects.filter(worker=user, status=Answer.Status.ACCEPTED, task__project__currency=currency)
        .exclude(ledger_transactions__kind=T.EARNING)
        .count()
    )
    return {
        **worker_balance(user, currency),
        "accepted": -from_scaled(credited.get(T.EARNING)),
        "top_ups": -from_scaled(credited.get(T.TOP_UP)),
        "pending_count": answers["pending_count"],
        "pending_value": from_scaled(answers["pending_value"]),
        "accepted_unpaid_count": unpaid,
    }


def worker_project_pay(user: User, currency: str = "USD") -> list[dict]:
    """Per project: what the ledger paid the worker and their measured effective hourly pay. Three queries.

    Hourly pay = (earnings + top-ups of the worker's paid answers that have a
    measured active time) / those answers' active seconds × 3600, to the cent.
    Answers with no measured time (0 s) are left out of the rate, not counted
    as infinitely fast; the rate is None when no paid answer was measured.
    """
    measured = Q(transaction__answer__active_seconds__gt=0)
    money_rows = (
        LedgerEntry.objects.filter(
            account__kind=K.WORKER_EARNINGS,
            account__user=user,
            account__currency=currency,
            transaction__kind__in=(T.EARNING, T.TOP_UP),
        )
        .values("transaction__project")
        .annotate(
            earnings=scaled_sum_where("amount", Q(transaction__kind=T.EARNING)),
            top_ups=scaled_sum_where("amount", Q(transaction__kind=T.TOP_UP)),
            measured_pay=scaled_sum_where("amount", measured),
        )
    )
    # One earning transaction per answer (its event key is unique), so this join never double-counts.
    time_rows = (
        Answer.objects.filter(worker=user, ledger_transactions__kind=T.EARNING, task__project__currency=currency)
        .values("task__project")
        .annotate(paid=Count("id"), measured=Count("id", filter=Q(active_seconds__gt=0)), seconds=Sum("active_seconds"))
    )
    times = {row["task__project"]: row for row in time_rows}
    by_project = {row["transaction__project"]: row for row in money_rows if row["transaction__project"]}
    projects = Project.objects.select_related("organization").in_bulk(list(by_project))
    result = []
    for project_id, row in by_project.items():
        project = projects[project_id]
        timing = times.get(project_id, {"paid": 0, "measured": 0, "seconds": 0})
        measured_pay = -from_scaled(row["measured_pay"])
        seconds = timing["seconds"] or 0
        result.append(
            {
                "project": project,
                "earnings": -from_scaled(row["earnings"]),
                "top_ups": -from_scaled(row["top_ups"]),
                "answers_paid": timing["paid"],
                "answers_measured": timing["measured"],
                "active_seconds": seconds,
                "hourly": hourly_rate(measured_pay, seconds) if seconds and measured_pay > 0 else None,
                "posted_hourly": project.effective_hourly_pay,
            }
        )
    result.sort(key=lambda r: (r["project"].title, r["project"].pk))
    return result
