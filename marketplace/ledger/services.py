"""Every write to the ledger except the payout workflow (payouts.py). See marketplace/ledger/__init__.py for the sign convention.

The posting core every service here builds on (amounts, fees, accounts, `ledger_post`, account locks) is in
posting.py and re-exported here, so callers import every ledger write from this module. The rules posting.py
keeps (exact amounts, balanced transactions, one posting per business event, lock before spending) hold for
every service below.
"""

from __future__ import annotations

import functools
import uuid
from decimal import Decimal

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q

from coop.errors import ApplicationError, Conflict
from coop.models import ClientOrganization, User
from coop.rows import from_row, insert_values, inserted_fields, select_list
from coop.validation import require_steward
from marketplace.error_codes import MarketplaceErrorCode

from ..models import Answer, Project
from .models import LedgerAccount, LedgerEntry, LedgerTransaction
from .posting import (  # noqa: F401  (re-exported: the ledger's writes are imported from here)
    CHECKPOINT_EVERY,
    CLOSED,
    MAX_AMOUNT,
    MONEY_STEWARD,
    NOT_FEE_KINDS,
    PLACES,
    K,
    T,
    _fee_rate,
    _posted,
    _share_rate,
    _share_transaction,
    account_for,
    benefits_share_of,
    benefits_share_post,
    benefits_share_rate,
    fee_for,
    ledger_post,
    lock_account,
    money,
    required_text,
    spendable_balance,
)
from .selectors import account_balance

# --- Client money -------------------------------------------------------------------------------


@transaction.atomic
def deposit_record(
    *, organization: ClientOrganization, amount: Decimal, reference: str, recorded_by: User, currency: str = "USD"
) -> LedgerTransaction:
    """A steward records money a client transferred to the co-op: coop_bank (debit) → client_cash (credit).

    The bank reference identifies the deposit: recording it again returns the same transaction.
    """
    require_steward(recorded_by, MONEY_STEWARD, superuser=True)
    amount = money(amount)
    reference = required_text(reference, field="reference")
    if currency not in settings.COOP_CURRENCIES:
        raise ApplicationError(
            f"The co-op keeps no books in {currency}; deposit in {', '.join(settings.COOP_CURRENCIES)}.",
            code=MarketplaceErrorCode.UNSUPPORTED_CURRENCY, fields={"currency": ["Not a currency the co-op supports."]}, status=400,
        )
    bank = account_for(kind=K.COOP_BANK, currency=currency)
    cash = account_for(kind=K.CLIENT_CASH, organization=organization, currency=currency)
    return ledger_post(
        event_key=f"deposit:org:{organization.pk}:{reference}",
        kind=T.DEPOSIT,
        entries=[(bank, amount), (cash, -amount)],
        description=f"Deposit from {organization.name}",
        created_by=recorded_by,
        reference=reference,
        organization=organization,
    )


@transaction.atomic
def escrow_fund(
    *, project: Project, amount: Decimal, event_key: str | None = None, created_by: User | None = None
) -> LedgerTransaction:
    """Move client cash into the project's escrow: client_cash (debit) → project_escrow (credit).

    Money rule: never more than the client's cash balance (ApplicationError
    "insufficient_funds"), and never into a completed or cancelled project
    ("project_closed"). Locks the client's cash account, then the escrow
    account, before checking, so concurrent fundings cannot overdraw and a
    concurrent refund cannot miss money. Pass `event_key` for a retry-safe
    funding; without one every call is a new funding.
    """
    amount = money(amount)
    event_key = event_key or f"escrow_fund:project:{project.pk}:{uuid.uuid4().hex}"
    cash = lock_account(account_for(kind=K.CLIENT_CASH, organization=project.organization, currency=project.currency))
    escrow = lock_account(account_for(kind=K.PROJECT_ESCROW, project=project, currency=project.currency))
    if not _posted(event_key):
        if Project.objects.filter(pk=project.pk, status__in=CLOSED).exists():
            raise Conflict("A completed or cancelled project cannot be funded.", code=MarketplaceErrorCode.PROJECT_CLOSED)
        available = account_balance(cash)
        if available < amount:
            raise ApplicationError(
                f"The client's balance ({available} {cash.currency}) does not cover {amount}.",
                code=MarketplaceErrorCode.INSUFFICIENT_FUNDS,
                extra={"available": str(available), "required": str(amount)},
            )
    return ledger_post(
        event_key=event_key,
        kind=T.ESCROW_FUND,
        entries=[(cash, amount), (escrow, -amount)],
        description=f"Escrow for “{project.title}”",
        created_by=created_by,
        organization=project.organization,
        project=project,
    )


@transaction.atomic
def escrow_refund(*, project: Project, created_by: User | None = None, keep: Decimal = Decimal(0)) -> LedgerTransaction | None:
    """Return a completed or cancelled project's unspent escrow to the client: project_escrow → client_cash.

    `keep` stays in escrow (what rejections still inside the appeal window could cost).

    Idempotent: with nothing left in escrow it returns the last refund (or
    None). Refuses a live project ("project_active"): its escrow still pays
    for work. Locks the escrow account.
    """
    if not Project.objects.filter(pk=project.pk, status__in=CLOSED).exists():
        raise Conflict("Escrow is refunded only when the project is completed or cancelled.", code=MarketplaceErrorCode.PROJECT_ACTIVE)
    escrow = lock_account(account_for(kind=K.PROJECT_ESCROW, project=project, currency=project.currency))
    refunds = LedgerTransaction.objects.filter(kind=T.REFUND, project=project)
    unspent = spendable_balance(escrow) - keep
    if unspent <= 0:
        return refunds.order_by("-id").first()
    cash = account_for(kind=K.CLIENT_CASH, organization=project.organization, currency=project.currency)
    return ledger_post(
        event_key=f"refund:project:{project.pk}:{refunds.count() + 1}",
        kind=T.REFUND,
        entries=[(escrow, unspent), (cash, -unspent)],
        description=f"Unspent escrow of “{project.title}” returned",
        created_by=created_by,
        organization=project.organization,
        project=project,
    )


# --- Paying for work ----------------------------------------------------------------------------


# What every payment reads before it writes, as plain SQL on PostgreSQL (coop.rows builds the accounts through the
# ORM's converters), in one statement: the project's escrow, locked FOR NO KEY UPDATE (see lock_account), and the
# accounts the payment credits. The balance is read after, by its own statement, so that it sees every payment
# committed while this one waited for the lock. SQLite keeps the ORM.
_PAYMENT_ACCOUNTS_SQL = """
WITH escrow AS (
    SELECT {columns} FROM {table} a WHERE a.kind = %s AND a.project_id = %s AND a.currency = %s FOR NO KEY UPDATE
)
SELECT {escrow_columns}, TRUE FROM escrow
UNION ALL
SELECT {columns}, FALSE FROM {table} a WHERE a.currency = %s AND ((a.kind = %s AND a.user_id = ANY(%s)) OR a.kind = ANY(%s))
"""


@functools.cache
def _payment_accounts_sql() -> str:
    """The statement with the account columns filled in, built once (it is the same on every payment)."""
    return _PAYMENT_ACCOUNTS_SQL.format(
        columns=select_list(LedgerAccount, "a"), escrow_columns=select_list(LedgerAccount, "escrow"), table=LedgerAccount._meta.db_table
    )


def _payment_accounts(project: Project, workers: set[int]) -> tuple[LedgerAccount | None, list[LedgerAccount]]:
    """The project's escrow account, locked (None if it has none yet), and the workers' earnings accounts and the
    co-op's fee and benefits accounts in the project's currency (those that exist)."""
    currency = project.currency
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                _payment_accounts_sql(),
                [K.PROJECT_ESCROW, project.pk, currency, currency, K.WORKER_EARNINGS, list(workers), [K.COOP_FEES, K.BENEFITS]],
            )
            rows = [from_row(row, [LedgerAccount]) for row in cursor.fetchall()]
        escrow = next((account for (account,), (is_escrow,) in rows if is_escrow), None)
        return escrow, [account for (account,), (is_escrow,) in rows if not is_escrow]
    lookup = {"kind": K.PROJECT_ESCROW, "project": project, "currency": currency}
    escrow = LedgerAccount.objects.select_for_update(no_key=True).filter(**lookup).first()
    accounts = Q(kind=K.WORKER_EARNINGS, user_id__in=workers) | Q(kind__in=(K.COOP_FEES, K.BENEFITS))
    return escrow, list(LedgerAccount.objects.filter(accounts, currency=currency))


# PostgreSQL: a payment's transactions and their entries in one statement (the ORM's two bulk inserts took about
# a millisecond each to build). Columns and casts come from the models, so a new field is written without
# touching the SQL; entries find their transaction by its unique event key and keep their order.
_POSTINGS_SQL = """
WITH posted AS (
    INSERT INTO {transactions} ({transaction_columns}) SELECT * FROM UNNEST({transaction_arrays}) RETURNING id, event_key
)
INSERT INTO {entries} ({entry_columns})
SELECT posted.id, {entry_values} FROM UNNEST(%s::varchar[], {entry_arrays}) WITH ORDINALITY AS e(event_key, {entry_names}, position)
JOIN posted ON posted.event_key = e.event_key ORDER BY e.position
"""


@functools.cache
def _postings() -> tuple[str, tuple, tuple]:
    """The statement, the transaction's fields and the entry's fields but its transaction, worked out once."""
    quote = connection.ops.quote_name
    transaction_fields = inserted_fields(LedgerTransaction)
    entry_fields = tuple(field for field in inserted_fields(LedgerEntry) if field.name != "transaction")
    names = [f"v{i}" for i in range(len(entry_fields))]
    sql = _POSTINGS_SQL.format(
        transactions=LedgerTransaction._meta.db_table,
        transaction_columns=", ".join(quote(field.column) for field in transaction_fields),
        transaction_arrays=", ".join(f"%s::{field.db_type(connection)}[]" for field in transaction_fields),
        entries=LedgerEntry._meta.db_table,
        entry_columns=", ".join(quote(field.column) for field in [LedgerEntry._meta.get_field("transaction"), *entry_fields]),
        entry_values=", ".join(f"e.{name}" for name in names),
        entry_arrays=", ".join(f"%s::{field.db_type(connection)}[]" for field in entry_fields),
        entry_names=", ".join(names),
    )
    return sql, transaction_fields, entry_fields


def _insert_postings(transactions: list[LedgerTransaction], entries: list[tuple[int, LedgerAccount, Decimal]]) -> None:
    """Insert these (balanced, unsaved) transactions and their entries, given as (position in `transactions`,
    account, amount). A key already posted fails the unique event key: an IntegrityError, nothing written."""
    if connection.vendor != "postgresql":
        saved = LedgerTransaction.objects.bulk_create(transactions)
        LedgerEntry.objects.bulk_create([LedgerEntry(transaction=saved[i], account=account, amount=amount) for i, account, amount in entries])
        return
    sql, transaction_fields, entry_fields = _postings()
    # One array per column (the statement UNNESTs them), holding what save() would write.
    rows = [insert_values(t, transaction_fields) for t in transactions]
    lines = [insert_values(LedgerEntry(account=account, amount=amount), entry_fields) for _, account, amount in entries]
    keys = [transactions[i].event_key for i, _, _ in entries]
    with connection.cursor() as cursor:
        cursor.execute(sql, [*map(list, zip(*rows)), keys, *map(list, zip(*lines))])


def escrow_pay_accepted(
    *,
    project: Project,
    items: list[tuple[Answer, Decimal, str, str]],
    fee_rate: Decimal,
    share_rate: Decimal | None = None,
    fresh: bool = False,
) -> int:
    """Pay accepted answers of one project from its escrow in one go; the marketplace's hot path. Returns how many posted.

    `items` are (answer, amount, kind, event_key) with kind "earning" or
    "top_up"; the caller vouches that each answer is accepted and belongs to
    `project`. Each posts the same transaction earning_post / top_up_post
    would (escrow → worker + co-op fee, and the fee's benefits share as its own
    transaction), once per event key. Locks the escrow,
    skips keys already posted, and raises "escrow_insufficient" before writing
    anything when escrow does not cover them all. With the escrow locked no
    other payer of this project can race, so the writes need no savepoints:
    about six queries for one to three answers. `share_rate` is the benefits share when the caller read it
    (with the fee rate, in one query). `fresh`: the caller accepted these answers from pending in this
    transaction, and no answer ever returns to pending, so none can have been posted; the check for posted
    keys is skipped (the unique event key would still refuse a second posting, rolling everything back).
    """
    fee_rate = _fee_rate(fee_rate)
    lookup = {"kind": K.PROJECT_ESCROW, "project": project, "currency": project.currency}
    escrow, accounts = _payment_accounts(project, {answer.worker_id for answer, *_ in items})  # one query
    escrow = escrow or lock_account(account_for(**lookup))
    keys = [key for *_, key in items]
    done = set() if fresh else set(LedgerTransaction.objects.filter(event_key__in=keys).values_list("event_key", flat=True))
    todo = [(answer, money(amount), kind, key) for answer, amount, kind, key in items if key not in done]
    if not todo:
        return 0
    if any(kind not in (T.EARNING, T.TOP_UP) for _, _, kind, _ in todo):
        raise ApplicationError("Only earnings and top-ups are paid from escrow here.", code=MarketplaceErrorCode.INVALID_KIND)
    fees = [fee_for(amount, fee_rate) for _, amount, _, _ in todo]
    total = sum(amount for _, amount, _, _ in todo) + sum(fees)
    available = spendable_balance(escrow)
    if available < total:
        raise ApplicationError(
            f"The project's escrow ({available} {project.currency}) does not cover {total}.",
            code=MarketplaceErrorCode.ESCROW_INSUFFICIENT,
            extra={"available": str(available), "required": str(total)},
        )
    workers = {answer.worker_id for answer, *_ in todo}
    earnings, fee_account, fund = {}, None, None
    for account in accounts:
        if account.kind == K.COOP_FEES:
            fee_account = account
        elif account.kind == K.BENEFITS:
            fund = account
        else:
            earnings[account.user_id] = account
    for worker_id in workers - set(earnings):  # first earning of a worker in this currency
        earnings[worker_id] = account_for(kind=K.WORKER_EARNINGS, user=User(pk=worker_id), currency=project.currency)
    if fee_account is None and any(fees):
        fee_account = account_for(kind=K.COOP_FEES, currency=project.currency)
    # The benefits fund's share of each fee, posted with it (what benefits_share_post would write, in bulk).
    share_rate = (benefits_share_rate() if share_rate is None else _share_rate(share_rate)) if any(fees) else Decimal(0)
    shares = [benefits_share_of(fee, share_rate) if fee else Decimal(0) for fee in fees]
    if fund is None and any(shares):
        fund = account_for(kind=K.BENEFITS, currency=project.currency)
    transactions = [
        LedgerTransaction(
            event_key=key,
            kind=kind,
            description=f"{'Top-up' if kind == T.TOP_UP else 'Accepted answer'} in “{project.title}” (task {answer.task.external_id})"[:300],
            project=project,
            answer=answer,
            user_id=answer.worker_id,
        )
        for answer, _, kind, key in todo
    ] + [LedgerTransaction(**_share_transaction(key, share_rate), user_id=answer.worker_id) for (answer, _, _, key), share in zip(todo, shares) if share]
    entries = []  # (the transaction's position in `transactions`, account, amount)
    for position, ((answer, amount, _, _), fee) in enumerate(zip(todo, fees)):
        entries += [(position, escrow, amount + fee), (position, earnings[answer.worker_id], -amount)]
        if fee:
            entries += [(position, fee_account, -fee)]
    for position, share in enumerate([share for share in shares if share], start=len(todo)):
        entries += [(position, fee_account, share), (position, fund, -share)]
    _insert_postings(transactions, entries)
    return len(todo)


def _pay_from_escrow(*, answer: Answer, amount: Decimal, fee_rate: Decimal, event_key: str, kind: str) -> LedgerTransaction:
    """project_escrow (debit amount + fee) → worker_earnings (credit amount) + coop_fees (credit fee). Locks the escrow."""
    project = answer.task.project
    fee = fee_for(amount, fee_rate)
    escrow = lock_account(account_for(kind=K.PROJECT_ESCROW, project=project, currency=project.currency))
    earnings = account_for(kind=K.WORKER_EARNINGS, user=answer.worker, currency=project.currency)
    entries = [(escrow, amount + fee), (earnings, -amount)]
    if fee:
        entries.append((account_for(kind=K.COOP_FEES, currency=project.currency), -fee))
    if not _posted(event_key):
        available = spendable_balance(escrow)
        if available < amount + fee:
            raise ApplicationError(
                f"The project's escrow ({available} {project.currency}) does not cover {amount + fee}.",
                code=MarketplaceErrorCode.ESCROW_INSUFFICIENT,
                extra={"available": str(available), "required": str(amount + fee)},
            )
    label = "Top-up" if kind == T.TOP_UP else "Accepted answer"
    return ledger_post(
        event_key=event_key,
        kind=kind,
        entries=entries,
        description=f"{label} in “{project.title}” (task {answer.task.external_id})",
        project=project,
        answer=answer,
        user=answer.worker,
    )


def _accepted(answer: Answer) -> Answer:
    answer = Answer.objects.select_related("task__project", "worker").get(pk=answer.pk)
    if answer.status != Answer.Status.ACCEPTED:
        raise Conflict("Only accepted answers are paid.", code=MarketplaceErrorCode.ANSWER_NOT_ACCEPTED)
    return answer


@transaction.atomic
def earning_post(*, answer: Answer, amount: Decimal, fee_rate: Decimal) -> LedgerTransaction:
    """Pay an accepted answer from its project's escrow, once (event key "earning:answer:<id>").

    Money rule: the worker is credited `amount`; the co-op's fee is
    amount × fee_rate rounded half-up to 4 places, on top, also from escrow.
    Refuses with "escrow_insufficient" when escrow does not cover both.
    """
    amount, fee_rate = money(amount), _fee_rate(fee_rate)
    answer = _accepted(answer)
    return _pay_from_escrow(
        answer=answer, amount=amount, fee_rate=fee_rate, event_key=f"earning:answer:{answer.pk}", kind=T.EARNING
    )


@transaction.atomic
def top_up_post(*, answer: Answer, amount: Decimal, fee_rate: Decimal, event_key: str | None = None) -> LedgerTransaction:
    """Pay an accepted answer more (e.g. after a pay-floor raise), with the same fee rule as earning_post.

    Pass the business event's `event_key` to make retries safe. Without one the
    key is "top_up:answer:<id>:<n>", n counting this answer's top-ups (under the
    escrow lock), so every call is a new top-up.
    """
    amount, fee_rate = money(amount), _fee_rate(fee_rate)
    answer = _accepted(answer)
    project = answer.task.project
    lock_account(account_for(kind=K.PROJECT_ESCROW, project=project, currency=project.currency))
    if event_key is None:
        n = LedgerTransaction.objects.filter(kind=T.TOP_UP, answer=answer).count() + 1
        event_key = f"top_up:answer:{answer.pk}:{n}"
    return _pay_from_escrow(answer=answer, amount=amount, fee_rate=fee_rate, event_key=event_key, kind=T.TOP_UP)


# --- Data dividends -----------------------------------------------------------------------------


@transaction.atomic
def dividend_post(
    *,
    event_key: str,
    organization: ClientOrganization,
    currency: str,
    amount: Decimal,
    parts: dict[User, Decimal],
    description: str,
) -> LedgerTransaction:
    """Bill a client for model usage and pay its data dividend, once (kind "dividend", `event_key`).

    client_cash (debit amount) → worker_earnings of each member in `parts` (credit their part)
                               + coop_fees (credit amount − the parts)

    Money rule: never more than the client's cash balance (ApplicationError
    "insufficient_funds", nothing posted). Locks the client's cash account
    before reading its balance. The caller (mlops.services.dividends) computes
    the parts; they sum to at most `amount`.
    """
    amount = money(amount)
    cash = lock_account(account_for(kind=K.CLIENT_CASH, organization=organization, currency=currency))
    if not _posted(event_key):
        available = account_balance(cash)
        if available < amount:
            raise ApplicationError(
                f"insufficient funds: {available} {currency} available, {amount} due",
                code=MarketplaceErrorCode.INSUFFICIENT_FUNDS,
                extra={"available": str(available), "required": str(amount)},
            )
    entries = [(cash, amount)]
    for worker, part in sorted(parts.items(), key=lambda item: item[0].pk):
        entries.append((account_for(kind=K.WORKER_EARNINGS, user=worker, currency=currency), -money(part)))
    fee = amount - sum(parts.values(), Decimal(0))
    if fee < 0:
        raise ApplicationError("The dividend parts exceed the amount billed.", code=MarketplaceErrorCode.INVALID_AMOUNT)
    if fee:
        entries.append((account_for(kind=K.COOP_FEES, currency=currency), -fee))
    return ledger_post(event_key=event_key, kind=T.DIVIDEND, entries=entries, description=description, organization=organization)
