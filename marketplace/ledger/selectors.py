"""Every read of the ledger. Balances are always derived from entries; nothing is cached.

Balances are reported on the account's normal side (see marketplace/ledger/__init__.py):
a client's cash, a project's escrow or a worker's earnings is positive when
the co-op holds money for them; the co-op's bank is positive when it holds money.

Sums are taken in whole ten-thousandths (ROUND(amount × 10000) as a 64-bit
integer): exact on PostgreSQL, and exact on SQLite too, where a DECIMAL
column is stored as a double and SUM() over doubles would not be.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db.models import BigIntegerField, DecimalField, ExpressionWrapper, F, Sum
from django.db.models.functions import Cast, Round
from django.utils import timezone

from coop.models import ClientOrganization, User

from ..models import Project
from .models import DEBIT_NORMAL, AccountKind, LedgerAccount, LedgerEntry, Payout, TransactionKind

K = AccountKind
T = TransactionKind
SCALE = 10000


def scaled_sum(path: str = "amount") -> Sum:
    """SUM of an amount column in ten-thousandths, as an integer. Turn it back into money with `from_scaled`."""
    scaled = ExpressionWrapper(F(path) * SCALE, output_field=DecimalField(max_digits=24, decimal_places=4))
    return Sum(Cast(Round(scaled), BigIntegerField()))


def from_scaled(total) -> Decimal:
    return (Decimal(int(total or 0)) / SCALE).quantize(Decimal("0.0001"))


def _normal(kind: str, raw: Decimal) -> Decimal:
    return raw if kind in DEBIT_NORMAL else -raw


def _sum(entries) -> Decimal:
    return from_scaled(entries.aggregate(total=scaled_sum())["total"])


def account_balance(account: LedgerAccount) -> Decimal:
    """The account's balance on its normal side (one query)."""
    return _normal(account.kind, _sum(LedgerEntry.objects.filter(account=account)))


def _owned_balance(kind: str, currency: str, **owner) -> Decimal:
    return _normal(kind, _sum(LedgerEntry.objects.filter(account__kind=kind, account__currency=currency, **owner)))


def escrow_balance(project: Project) -> Decimal:
    """Unspent escrow of the project, in the project's currency."""
    return _owned_balance(K.PROJECT_ESCROW, project.currency, account__project=project)


def client_cash_balance(organization: ClientOrganization, currency: str = "USD") -> Decimal:
    """What the client has deposited and not yet put into escrow."""
    return _owned_balance(K.CLIENT_CASH, currency, account__organization=organization)


def worker_balance(user: User, currency: str = "USD") -> dict:
    """The worker's money in one query.

    available: payable now; pending_payout: requested, not yet paid;
    paid_total: paid out; lifetime_earned: every credit to their earnings that
    is not a payout moving back and forth (earnings, top-ups, dividends,
    corrections). available + pending_payout + paid_total == lifetime_earned.
    """
    rows = (
        LedgerEntry.objects.filter(account__user=user, account__currency=currency)
        .values("account__kind", "transaction__kind")
        .annotate(total=scaled_sum())
    )
    available = pending = paid = earned = Decimal("0.0000")
    for row in rows:
        total = from_scaled(row["total"])
        if row["account__kind"] == K.WORKER_EARNINGS:
            available -= total
            if row["transaction__kind"] not in (T.PAYOUT_REQUEST, T.PAYOUT_CANCEL):
                earned -= total
        elif row["account__kind"] == K.WORKER_PAYOUT_PENDING:
            pending -= total
            if row["transaction__kind"] == T.PAYOUT_PAID:
                paid += total
    return {
        "currency": currency,
        "available": available,
        "pending_payout": pending,
        "paid_total": paid,
        "lifetime_earned": earned,
    }


def trial_balance() -> dict[str, Decimal]:
    """The sum of all entries per currency. Every value is exactly zero in a consistent ledger."""
    rows = LedgerEntry.objects.values("account__currency").annotate(total=scaled_sum()).order_by("account__currency")
    return {row["account__currency"]: from_scaled(row["total"]) for row in rows}


def balances_by_kind() -> dict[tuple[str, str], Decimal]:
    """(currency, account kind) -> total balance on the normal side, for a balance sheet."""
    rows = LedgerEntry.objects.values("account__currency", "account__kind").annotate(total=scaled_sum())
    return {(r["account__currency"], r["account__kind"]): _normal(r["account__kind"], from_scaled(r["total"])) for r in rows}


def _bounds(date_from, date_to) -> tuple[datetime | None, datetime | None]:
    """[start, end) as aware datetimes; a plain date as `date_to` includes that whole day."""

    def aware(value, *, next_day=False):
        if value is None or isinstance(value, datetime):
            return value
        if isinstance(value, date):
            day = value + timedelta(days=1) if next_day else value
            return timezone.make_aware(datetime.combine(day, time.min))
        raise TypeError("date_from/date_to must be a date or a datetime")

    return aware(date_from), aware(date_to, next_day=True)


WORKER_STATEMENT_FIELDS = ["date", "kind", "description", "project", "answer", "amount", "balance", "event_key"]


def worker_statement(user: User, date_from=None, date_to=None, currency: str = "USD") -> dict:
    """The worker's available-balance account line by line, with a running balance. JSON-able (amounts as strings).

    A row's amount is positive when money came to the worker (earning, top-up,
    cancelled payout) and negative when it left (payout requested). Payouts
    requested in the period are listed with their status.
    """
    start, end = _bounds(date_from, date_to)
    entries = LedgerEntry.objects.filter(account__kind=K.WORKER_EARNINGS, account__user=user, account__currency=currency)
    opening = -_sum(entries.filter(transaction__created_at__lt=start)) if start else Decimal("0.0000")
    if start:
        entries = entries.filter(transaction__created_at__gte=start)
    if end:
        entries = entries.filter(transaction__created_at__lt=end)
    balance, rows = opening, []
    for entry in entries.select_related("transaction").order_by("transaction__created_at", "transaction_id"):
        txn = entry.transaction
        balance -= entry.amount
        rows.append(
            {
                "date": txn.created_at.isoformat(),
                "kind": txn.kind,
                "description": txn.description,
                "event_key": txn.event_key,
                "project": txn.project_id,
                "answer": txn.answer_id,
                "amount": str(-entry.amount),
                "balance": str(balance),
            }
        )
    payouts = Payout.objects.filter(worker=user, currency=currency)
    if start:
        payouts = payouts.filter(created_at__gte=start)
    if end:
        payouts = payouts.filter(created_at__lt=end)
    return {
        "worker": user.pk,
        "currency": currency,
        "opening_balance": str(opening),
        "closing_balance": str(balance),
        "rows": rows,
        "payouts": [
            {
                "id": p.pk,
                "amount": str(p.amount),
                "status": p.status,
                "reference": p.reference,
                "requested_at": p.created_at.isoformat(),
            }
            for p in payouts.order_by("created_at", "id")
        ],
    }


STATEMENT_TOTALS = ("funded", "earnings", "top_ups", "fees", "refunded", "corrections")


def project_statement(project: Project) -> dict:
    """Every movement of the project's escrow, for an invoice or statement. JSON-able; two queries.

    Per row: escrow_change (+ funding, − spending), worker_amount and fee for
    payments. Totals satisfy funded − earnings − top_ups − fees − refunded +
    corrections == escrow_balance.
    """
    escrow = LedgerAccount.objects.filter(kind=K.PROJECT_ESCROW, project=project, currency=project.currency).first()
    totals = dict.fromkeys(STATEMENT_TOTALS, Decimal("0.0000"))
    rows: list[dict] = []
    entries = (
        LedgerEntry.objects.filter(transaction__entries__account=escrow)
        .select_related("transaction", "account")
        .order_by("transaction__created_at", "transaction_id", "id")
        if escrow
        else []
    )
    by_txn: dict[int, dict] = {}
    for entry in entries:
        txn = entry.transaction
        row = by_txn.get(txn.pk)
        if row is None:
            row = by_txn[txn.pk] = {
                "date": txn.created_at.isoformat(),
                "kind": txn.kind,
                "description": txn.description,
                "event_key": txn.event_key,
                "reference": txn.reference,
                "answer": txn.answer_id,
                "worker": txn.user_id,
                "escrow_change": Decimal(0),
                "worker_amount": Decimal(0),
                "fee": Decimal(0),
            }
            rows.append(row)
        credit = -entry.amount  # what this account received
        if entry.account_id == escrow.pk:
            row["escrow_change"] += credit
        elif entry.account.kind == K.WORKER_EARNINGS:
            row["worker_amount"] += credit
        elif entry.account.kind == K.COOP_FEES:
            row["fee"] += credit
    for row in rows:
        kind = row["kind"]
        if kind == T.ESCROW_FUND:
            totals["funded"] += row["escrow_change"]
        elif kind == T.REFUND:
            totals["refunded"] -= row["escrow_change"]
        elif kind in (T.EARNING, T.TOP_UP):
            totals["earnings" if kind == T.EARNING else "top_ups"] += row["worker_amount"]
            totals["fees"] += row["fee"]
        else:
            totals["corrections"] += row["escrow_change"]
        for key in ("escrow_change", "worker_amount", "fee"):
            row[key] = str(row[key].quantize(Decimal("0.0001")))
    balance = sum((Decimal(r["escrow_change"]) for r in rows), Decimal("0.0000"))
    return {
        "project": project.pk,
        "title": project.title,
        "organization": project.organization_id,
        "currency": project.currency,
        "rows": rows,
        "totals": {**{k: str(v) for k, v in totals.items()}, "escrow_balance": str(balance)},
    }


# --- Payouts desk and client money API (the earnings page reads are in marketplace/earnings.py) ---------------------------------------------


def scaled_sum_where(path: str, condition) -> Sum:
    """`scaled_sum(path)` over the rows matching `condition` only."""
    scaled = ExpressionWrapper(F(path) * SCALE, output_field=DecimalField(max_digits=24, decimal_places=4))
    return Sum(Cast(Round(scaled), BigIntegerField()), filter=condition)


def worker_currencies(user: User) -> list[str]:
    """Currencies the worker has ledger accounts in (USD first: the co-op's own currency)."""
    found = set(LedgerAccount.objects.filter(user=user).values_list("currency", flat=True))
    return sorted(found | {"USD"}, key=lambda c: (c != "USD", c))


def worker_payouts(user: User, currency: str | None = None):
    """The worker's payouts, newest first (only ever their own)."""
    payouts = Payout.objects.filter(worker=user).order_by("-created_at", "-id")
    return payouts.filter(currency=currency) if currency else payouts


def payout_desk(*, recent: int = 50) -> dict:
    """For stewards: open payout requests (oldest first, who to pay) and the latest decided ones."""
    people = ("worker__membership", "decided_by")
    return {
        "requested": list(Payout.objects.filter(status=Payout.Status.REQUESTED).select_related(*people).order_by("created_at", "id")),
        "decided": list(
            Payout.objects.exclude(status=Payout.Status.REQUESTED).select_related(*people).order_by("-decided_at", "-id")[:recent]
        ),
    }


def balance_sheet() -> list[dict]:
    """Per currency: every account kind's total (normal side), the trial balance and whether the books balance."""
    totals = balances_by_kind()
    trial = trial_balance()
    sheet = []
    for currency in sorted({c for c, _ in totals} | set(trial)):
        kinds = [(label, totals.get((currency, kind), Decimal("0.0000"))) for kind, label in K.choices]
        sheet.append({"currency": currency, "kinds": kinds, "trial_balance": trial.get(currency, Decimal("0.0000"))})
    return sheet


def organization_balances(organization: ClientOrganization) -> dict:
    """A client's cash per currency and every one of its projects' escrow. Three queries."""
    cash = {
        row["account__currency"]: -from_scaled(row["total"])
        for row in LedgerEntry.objects.filter(account__kind=K.CLIENT_CASH, account__organization=organization)
        .values("account__currency")
        .annotate(total=scaled_sum())
    }
    escrow = {
        row["account__project"]: -from_scaled(row["total"])
        for row in LedgerEntry.objects.filter(account__kind=K.PROJECT_ESCROW, account__project__organization=organization)
        .values("account__project")
        .annotate(total=scaled_sum())
    }
    projects = [
        {"id": p.pk, "title": p.title, "status": p.status, "currency": p.currency, "escrow": escrow.get(p.pk, Decimal("0.0000"))}
        for p in Project.objects.filter(organization=organization).order_by("-created_at", "-id")
    ]
    currencies = sorted(set(cash) | {p["currency"] for p in projects} | {"USD"}, key=lambda c: (c != "USD", c))
    return {
        "balances": [
            {
                "currency": c,
                "cash": cash.get(c, Decimal("0.0000")),
                "escrow": sum((p["escrow"] for p in projects if p["currency"] == c), Decimal("0.0000")),
            }
            for c in currencies
        ],
        "projects": projects,
    }


def organization_deposits(organization: ClientOrganization, *, reference: str | None = None, limit: int = 100) -> list[dict]:
    """A client's recorded deposits, newest first: what reached the co-op's bank for them."""
    entries = LedgerEntry.objects.filter(
        account__kind=K.CLIENT_CASH, account__organization=organization, transaction__kind=T.DEPOSIT
    ).select_related("transaction", "account")
    if reference is not None:
        entries = entries.filter(transaction__reference=reference)
    return [
        {
            "id": e.transaction_id,
            "amount": -e.amount,
            "currency": e.account.currency,
            "reference": e.transaction.reference,
            "recorded_at": e.transaction.created_at,
        }
        for e in entries.order_by("-transaction__created_at", "-transaction_id")[:limit]
    ]


def escrow_summary(project: Project) -> dict:
    """Where a project's escrow went, in one query (plus one for the balance).

    committed: funded into escrow; spent: worker earnings + top-ups + co-op
    fees paid from it; refunded: returned to the client's cash. committed −
    spent − refunded + corrections == balance.
    """
    totals = dict.fromkeys(("committed", "earnings", "top_ups", "fees", "refunded", "corrections"), Decimal("0.0000"))
    rows = (
        LedgerEntry.objects.filter(
            transaction__entries__account__kind=K.PROJECT_ESCROW,
            transaction__entries__account__project=project,
            transaction__entries__account__currency=project.currency,
        )
        .values("account__kind", "account__project", "transaction__kind")
        .annotate(total=scaled_sum())
    )
    for row in rows:
        credit, kind, txn = -from_scaled(row["total"]), row["account__kind"], row["transaction__kind"]
        is_escrow = kind == K.PROJECT_ESCROW and row["account__project"] == project.pk
        if is_escrow and txn == T.ESCROW_FUND:
            totals["committed"] += credit
        elif is_escrow and txn == T.REFUND:
            totals["refunded"] -= credit
        elif is_escrow and txn not in (T.EARNING, T.TOP_UP):
            totals["corrections"] += credit
        elif kind == K.WORKER_EARNINGS and txn in (T.EARNING, T.TOP_UP):
            totals["earnings" if txn == T.EARNING else "top_ups"] += credit
        elif kind == K.COOP_FEES and txn in (T.EARNING, T.TOP_UP):
            totals["fees"] += credit
    totals["spent"] = totals["earnings"] + totals["top_ups"] + totals["fees"]
    return {"project": project.pk, "currency": project.currency, "balance": escrow_balance(project), **totals}


CLIENT_STATEMENT_FIELDS = ["date", "kind", "description", "reference", "task_external_id", "worker", "escrow_change", "worker_amount", "fee"]


def project_statement_for_client(project: Project) -> dict:
    """`project_statement` as a client may see it: workers only as pseudonymous ids, tasks by the client's own ids.

    The user id and the answer id of each row are replaced by the worker's
    pseudonym for this organization (the one results exports use) and the
    task's external id; the internal event key (it names answer ids) is left
    out. One more query than project_statement.
    """
    from ..models import Answer
    from ..pseudonyms import worker_pseudonym

    statement = project_statement(project)
    answer_ids = {row["answer"] for row in statement["rows"] if row["answer"]}
    external = dict(Answer.objects.filter(pk__in=answer_ids).values_list("pk", "task__external_id"))
    rows = []
    for row in statement["rows"]:
        worker, answer = row.pop("worker"), row.pop("answer")
        row.pop("event_key")
        row["worker"] = worker_pseudonym(organization_id=project.organization_id, worker_id=worker) if worker else ""
        row["task_external_id"] = external.get(answer, "")
        rows.append(row)
    return {**statement, "rows": rows}


def paid_by_answer(answer_ids) -> dict[int, Decimal]:
    """What each answer's worker has been credited for it (earning + top-ups), by answer id; unpaid answers are absent."""
    rows = (
        LedgerEntry.objects.filter(
            transaction__answer_id__in=list(answer_ids),
            transaction__kind__in=(T.EARNING, T.TOP_UP),
            account__kind=K.WORKER_EARNINGS,
        )
        .values("transaction__answer_id")
        .annotate(total=scaled_sum())
    )
    return {row["transaction__answer_id"]: -from_scaled(row["total"]) for row in rows}
