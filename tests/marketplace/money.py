"""Helpers for the earnings and client-money tests: funded projects, real answers, earnings posted as acceptance posts them.

These tests do not depend on the marketplace posting earnings itself: they
post each earning with the same amount and fee rate acceptance uses, so where
the marketplace already posted it the call is an idempotent replay.
"""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal as D

from django.utils import timezone

from governance.selectors import policy_current
from marketplace.ledger import selectors, services
from marketplace.ledger.models import LedgerAccount, LedgerTransaction
from marketplace.models import Answer, Assignment
from marketplace.services import claiming, projects, submission
from tests import factories

_seq = itertools.count(1)


def funded_project(organization, steward, *, pay="0.50", seconds=60, tasks=3, overlap=1, escrow="50.00", title=None):
    """A classification project whose client deposited 1000.00 and put `escrow` into its escrow before publishing.

    Each project gets its own instructions, so a cheaper one is never held as a rate-cut relaunch of another.
    """
    n = next(_seq)
    project = factories.make_project(
        organization,
        task_type="classification",
        tasks=tasks,
        overlap=overlap,
        max_overlap=overlap,
        pay_per_task=pay,
        estimated_seconds=seconds,
        publish=False,
        title=title or f"Sentiment {pay}",
        instructions=f"Study {n}: " + " ".join(f"term{n}x{i}" for i in range(12)),
    )
    services.deposit_record(organization=organization, amount=D("1000.00"), reference=f"BANK-P{project.pk}", recorded_by=steward)
    services.escrow_fund(project=project, amount=D(escrow), event_key=f"test-fund:{project.pk}")
    factories.make_active_dua(organization)
    return projects.project_publish(project=project)


def answer(project, worker, *, active_seconds=0, choice="positive") -> Answer:
    """The worker leases the next task and submits, having been active `active_seconds` (measured the real way)."""
    claim = claiming.work_next(worker=worker, project=project)
    lease = claim.assignment
    assert lease is not None, claim.reason
    if active_seconds:
        earlier = timezone.now() - dt.timedelta(seconds=active_seconds + 60)
        Assignment.objects.filter(pk=lease.pk).update(leased_at=earlier, last_heartbeat_at=earlier)
    submitted, _ = submission.assignment_submit(
        worker=worker,
        assignment_id=lease.pk,
        payload={"choice": choice},
        idempotency_key=f"k{lease.pk}",
        active_seconds=active_seconds or None,
    )
    return Answer.objects.select_related("task__project", "worker").get(pk=submitted.pk)


def fee_rate() -> D:
    return policy_current("coop_fee_rate")


def pay(answer: Answer) -> LedgerTransaction:
    """Post the answer's earning: its project's pay per task plus the co-op fee, from escrow."""
    return services.earning_post(answer=answer, amount=answer.task.project.pay_per_task, fee_rate=fee_rate())


def assert_books_balance() -> None:
    """Debits equal credits in every currency (the trial balance is all zero) and no account is overdrawn."""
    trial = selectors.trial_balance()
    assert trial and all(total == 0 for total in trial.values()), trial
    accounts = LedgerAccount.objects.annotate(raw=selectors.scaled_sum("entries__amount"))
    overdrawn = [a for a in accounts if selectors.from_scaled(a.raw) * (1 if a.is_debit_normal else -1) < 0]
    assert overdrawn == []
