"""Benchmark: the cost of reading a project's escrow balance before each payment, as the escrow's history grows.

Every accepted answer is paid from its project's escrow under the escrow row
lock, after checking the balance. Summing the whole history would make each
payment O(entries) — quadratic over a million-answer project. The ledger keeps
a checkpoint on the locked escrow row (services.spendable_balance), so a
payment sums only the entries since the previous one.

This script builds one funded project, appends N payment-sized movements out
of its escrow (bulk-inserted, balanced, through the real models), then times:

* `account_balance(escrow)`: the full sum (what every payment would cost without the checkpoint);
* `spendable_balance(lock_account(escrow))` right after N new entries (the first payment pays the catch-up once);
* `spendable_balance` again after 1 new entry (every later payment).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/coop_bench python benchmarks/escrow_balance.py --entries 1000000

Nothing here is a test: it measures. It writes to the configured database (use a scratch one).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import uuid
from decimal import Decimal

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def timed(func, repeat: int) -> float:
    """Median milliseconds of `repeat` calls, each in its own transaction."""
    from django.db import transaction

    samples = []
    for _ in range(repeat):
        with transaction.atomic():
            started = time.perf_counter()
            func()
            samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--entries", type=int, default=200_000, help="payments already made from the escrow")
    parser.add_argument("--batch", type=int, default=20_000)
    args = parser.parse_args()

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, transaction

    call_command("migrate", verbosity=0)
    from coop import services
    from coop.models import User
    from marketplace.ledger.models import LedgerAccount, LedgerEntry, LedgerTransaction
    from marketplace.ledger.selectors import account_balance
    from marketplace.ledger.services import account_for, deposit_record, escrow_fund, ledger_post, lock_account, spendable_balance
    from marketplace.models import Project

    run = uuid.uuid4().hex[:8]
    steward = User.objects.create_superuser(email=f"bench-{run}@example.org", password=None)
    organization = services.organization_create(actor=None, name=f"Escrow bench {run}")
    project = Project.objects.create(
        organization=organization, title="Escrow bench", instructions="-", task_type="ocr", pay_per_task=Decimal("0.1"), estimated_seconds=10
    )
    pay = Decimal("0.0700")
    total = pay * args.entries + 1000
    deposit_record(organization=organization, amount=total, reference=f"bench-{run}", recorded_by=steward)
    escrow_fund(project=project, amount=total, event_key=f"bench-fund-{run}")
    escrow = account_for(kind="project_escrow", project=project)
    fees = account_for(kind="coop_fees")

    print(f"{connection.vendor}: appending {args.entries:,} payments to one escrow…", flush=True)
    started = time.perf_counter()
    for offset in range(0, args.entries, args.batch):
        size = min(args.batch, args.entries - offset)
        with transaction.atomic():
            txns = LedgerTransaction.objects.bulk_create(
                [LedgerTransaction(event_key=f"bench:{run}:{offset + i}", kind="correction", project=project) for i in range(size)]
            )
            LedgerEntry.objects.bulk_create(
                [LedgerEntry(transaction=t, account=escrow, amount=pay) for t in txns]
                + [LedgerEntry(transaction=t, account=fees, amount=-pay) for t in txns]
            )
    print(f"  appended in {time.perf_counter() - started:.1f} s", flush=True)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE marketplace_ledgerentry")

    full = timed(lambda: account_balance(escrow), 5)
    catch_up = timed(lambda: spendable_balance(lock_account(escrow)), 1)
    counter = iter(range(10**9))

    def one_more_then_read():
        ledger_post(event_key=f"bench:{run}:tail:{next(counter)}", kind="correction", entries=[(escrow, pay), (fees, -pay)])
        return spendable_balance(lock_account(escrow))

    steady = timed(one_more_then_read, 50)
    post_only = timed(
        lambda: ledger_post(event_key=f"bench:{run}:tail:{next(counter)}", kind="correction", entries=[(escrow, pay), (fees, -pay)]), 50
    )
    assert spendable_balance(LedgerAccount.objects.get(pk=escrow.pk)) == account_balance(escrow)
    print(f"Escrow with {args.entries:,} prior payments ({connection.vendor}):")
    print(f"  full sum (account_balance)                     {full:8.2f} ms")
    print(f"  checkpoint catch-up over all of them, once     {catch_up:8.2f} ms")
    print(f"  post one payment + checkpointed balance        {steady:8.2f} ms   (post alone: {post_only:.2f} ms)")


if __name__ == "__main__":
    main()
