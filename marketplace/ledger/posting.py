"""Posting to the ledger: amounts, fees, accounts, `ledger_post`, locks and balances of locked accounts.

The business moves built on it (deposits, escrow, earnings, dividends) are in services.py, the payout
workflow in payouts.py. See marketplace/ledger/__init__.py for the sign convention.

Rules every service keeps:

* Amounts are `Decimal` (never float) with at most 4 decimal places and less
  than MAX_AMOUNT in magnitude, so every amount is exact on every database.
* A transaction balances: its entries sum to exactly zero per currency.
* A business event posts once: `event_key` is unique in the database. A retry
  (or a racing thread) gets the transaction already posted, provided it has
  the same kind and entries; otherwise Conflict("event_conflict").
* A service that spends from an account locks that account's row
  (SELECT ... FOR NO KEY UPDATE, see `lock_account`) before reading its balance, so
  concurrent spends cannot overdraw it. Lock order, where two rows are locked:
  client cash, then project escrow.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from django.db import IntegrityError, connection, transaction
from django.db.models import Count, Max

from coop.errors import ApplicationError, Conflict
from coop.models import ClientOrganization, User
from coop.validation import required_text
from marketplace.error_codes import MarketplaceErrorCode

from ..models import Answer, Project
from .models import LOCKED_KINDS, OWNER_FIELD, AccountKind, LedgerAccount, LedgerEntry, LedgerTransaction, TransactionKind
from .selectors import SCALE, account_balance, from_scaled, scaled_sum

K = AccountKind
T = TransactionKind
PLACES = Decimal("0.0001")
# Amounts stay below 10^11 so that, with 4 decimal places, every amount has at
# most 15 significant digits and survives SQLite's floating-point storage exactly.
MAX_AMOUNT = Decimal("100000000000")
CLOSED = (Project.Status.COMPLETED, Project.Status.CANCELLED)


# --- Validation ---------------------------------------------------------------------------------


def money(value, *, field: str = "amount", positive: bool = True) -> Decimal:
    """An exact amount: a finite Decimal, non-zero, at most 4 decimal places, |value| < MAX_AMOUNT."""
    if isinstance(value, float):
        raise ApplicationError(
            f"'{field}' is a float; money must be a Decimal.", code=MarketplaceErrorCode.FLOAT_AMOUNT, fields={field: ["Use Decimal."]}
        )
    if not isinstance(value, Decimal) or not value.is_finite():
        raise ApplicationError(f"'{field}' must be a finite Decimal.", code=MarketplaceErrorCode.INVALID_AMOUNT, fields={field: ["Use Decimal."]})
    if abs(value) >= MAX_AMOUNT:
        raise ApplicationError(f"'{field}' is too large.", code=MarketplaceErrorCode.INVALID_AMOUNT, fields={field: [f"Below {MAX_AMOUNT}."]})
    if value != value.quantize(PLACES):
        raise ApplicationError(
            f"'{field}' has more than 4 decimal places.", code=MarketplaceErrorCode.INVALID_AMOUNT, fields={field: ["At most 4 decimals."]}
        )
    if value == 0:
        raise ApplicationError(
            f"'{field}' is zero; a ledger entry moves money.", code=MarketplaceErrorCode.ZERO_AMOUNT, fields={field: ["Not zero."]}
        )
    if positive and value < 0:
        raise ApplicationError(f"'{field}' must be positive.", code=MarketplaceErrorCode.INVALID_AMOUNT, fields={field: ["Positive."]})
    return value.quantize(PLACES)


def _fee_rate(value) -> Decimal:
    if not isinstance(value, Decimal) or not value.is_finite() or not (0 <= value < 1):
        raise ApplicationError("The fee rate must be a Decimal from 0 up to (not including) 1.", code=MarketplaceErrorCode.INVALID_FEE_RATE)
    return value


def fee_for(amount: Decimal, fee_rate: Decimal) -> Decimal:
    """The co-op's fee on a payment: amount × fee_rate, rounded half-up to 4 decimal places."""
    return (amount * fee_rate).quantize(PLACES, rounding=ROUND_HALF_UP)


# Every posting that credits the co-op's fees feeds the benefits fund (see benefits_share_post), except
# the fund's own movements and corrections (a correction undoes a posting; it earns nothing).
NOT_FEE_KINDS = frozenset({T.BENEFITS_SHARE, T.BENEFIT_PAYOUT, T.CORRECTION})


def benefits_share_rate() -> Decimal:
    """The members' policy `benefits_share_of_fee` (founding 0.20): the part of every co-op fee that goes to the benefits fund."""
    from governance.selectors import policy_current

    return _share_rate(policy_current("benefits_share_of_fee"))


def _share_rate(rate) -> Decimal:
    if not (isinstance(rate, Decimal) and rate.is_finite() and 0 <= rate <= 1):
        raise ApplicationError("The benefits share must be a Decimal from 0 to 1.", code=MarketplaceErrorCode.INVALID_FEE_RATE)
    return rate


def benefits_share_of(fee: Decimal, rate: Decimal) -> Decimal:
    """The fund's part of one fee: fee × rate, rounded half-up to 4 places (never more than the fee)."""
    return min(fee, fee_for(fee, rate))


def _share_transaction(source_key: str, rate: Decimal) -> dict:
    return {
        "event_key": f"benefits:{source_key}"[:255],
        "kind": T.BENEFITS_SHARE,
        "description": f"Benefits fund: {rate * 100:.2f}% of the co-op fee of {source_key}"[:300],
    }


MONEY_STEWARD = "Only stewards record money coming in or going out."


# --- Core ---------------------------------------------------------------------------------------


def account_for(
    *,
    kind: str,
    organization: ClientOrganization | None = None,
    project: Project | None = None,
    user: User | None = None,
    currency: str = "USD",
) -> LedgerAccount:
    """The account of `kind` for its owner and currency, created on first use (race-safe: a unique index decides)."""
    if kind not in OWNER_FIELD:
        raise ApplicationError(f"Unknown account kind {kind!r}.", code=MarketplaceErrorCode.INVALID_ACCOUNT)
    owners = {"organization": organization, "project": project, "user": user}
    wanted = OWNER_FIELD[K(kind)]
    if any((value is not None) != (name == wanted) for name, value in owners.items()):
        raise ApplicationError(f"A {kind} account belongs to {wanted or 'the co-op'} and nothing else.", code=MarketplaceErrorCode.INVALID_ACCOUNT)
    if not (
        isinstance(currency, str) and len(currency) == 3 and currency.isascii() and currency.isalpha() and currency.isupper()
    ):
        raise ApplicationError("A currency is a three-letter ISO 4217 code such as USD.", code=MarketplaceErrorCode.INVALID_CURRENCY)
    lookup = {"kind": kind, "currency": currency, **owners}
    account = LedgerAccount.objects.filter(**lookup).first()
    if account is not None:
        return account
    try:
        with transaction.atomic():
            return LedgerAccount.objects.create(**lookup)
    except IntegrityError:
        return LedgerAccount.objects.get(**lookup)  # a concurrent first use created it


def _lines(entries) -> list[tuple[LedgerAccount, Decimal]]:
    if not isinstance(entries, (list, tuple)) or len(entries) < 2:
        raise ApplicationError("A transaction needs at least two entries.", code=MarketplaceErrorCode.TOO_FEW_ENTRIES)
    lines = []
    for index, entry in enumerate(entries):
        if not (isinstance(entry, (list, tuple)) and len(entry) == 2 and isinstance(entry[0], LedgerAccount) and entry[0].pk):
            raise ApplicationError(f"Entry {index} is not an (account, amount) pair of a saved account.", code=MarketplaceErrorCode.INVALID_ENTRY)
        lines.append((entry[0], money(entry[1], field=f"entries[{index}]", positive=False)))
    ids = [account.pk for account, _ in lines]
    if len(set(ids)) != len(ids):
        raise ApplicationError("An account appears twice in one transaction.", code=MarketplaceErrorCode.INVALID_ENTRY)
    stored = LedgerAccount.objects.in_bulk(ids)
    if len(stored) != len(ids):
        raise ApplicationError("An entry names an account that does not exist.", code=MarketplaceErrorCode.UNKNOWN_ACCOUNT)
    totals: dict[str, Decimal] = {}
    for account, amount in lines:
        currency = stored[account.pk].currency
        totals[currency] = totals.get(currency, Decimal(0)) + amount
    unbalanced = {currency: str(total) for currency, total in totals.items() if total != 0}
    if unbalanced:
        raise ApplicationError(
            f"Debits and credits differ: the entries sum to {unbalanced}, not zero.",
            code=MarketplaceErrorCode.UNBALANCED,
            extra={"sums": unbalanced},
        )
    return [(stored[account.pk], amount) for account, amount in lines]


def _replayed(existing: LedgerTransaction, kind: str, lines) -> LedgerTransaction:
    """The transaction already posted for this event, if it is the same movement of money."""
    posted = sorted(existing.entries.values_list("account_id", "amount"))
    if existing.kind != kind or posted != sorted((account.pk, amount) for account, amount in lines):
        raise Conflict(f"Event {existing.event_key!r} was already posted with different entries.", code=MarketplaceErrorCode.EVENT_CONFLICT)
    existing.replayed = True  # callers that answer "created" vs "replayed" (the deposit API) read this
    return existing


@transaction.atomic
def ledger_post(
    *,
    event_key: str,
    kind: str,
    entries: list[tuple[LedgerAccount, Decimal]],
    description: str = "",
    created_by: User | None = None,
    reference: str = "",
    organization: ClientOrganization | None = None,
    project: Project | None = None,
    answer: Answer | None = None,
    user: User | None = None,
) -> LedgerTransaction:
    """Post one balanced transaction, once per `event_key`.

    Money rule: at least two entries on existing accounts, each a non-zero
    Decimal with at most 4 places (debit > 0, credit < 0), summing to exactly
    zero per currency; nothing is written otherwise. Posting an event_key
    again returns the first transaction if its kind and entries are the same,
    and raises Conflict("event_conflict") if not. Concurrent posts of one key
    are decided by the unique index: the loser returns the winner's row.
    """
    event_key = required_text(event_key, field="event_key", max_length=255)
    if kind not in T.values:
        raise ApplicationError(f"Unknown transaction kind {kind!r}.", code=MarketplaceErrorCode.INVALID_KIND)
    if len(reference) > 200:
        raise ApplicationError("A reference has at most 200 characters.", fields={"reference": ["Too long."]})
    lines = _lines(entries)
    for account, _ in lines:
        if account.kind in LOCKED_KINDS:
            lock_account(account)  # see LOCKED_KINDS: no entry reaches these accounts behind a spender's back
    existing = LedgerTransaction.objects.filter(event_key=event_key).first()
    if existing is not None:
        return _replayed(existing, kind, lines)
    refs = {"organization": organization, "project": project, "answer": answer, "user": user}
    try:
        with transaction.atomic():
            posted = LedgerTransaction.objects.create(
                event_key=event_key, kind=kind, description=description[:300], reference=reference, created_by=created_by, **refs
            )
            LedgerEntry.objects.bulk_create([LedgerEntry(transaction=posted, account=a, amount=amount) for a, amount in lines])
    except IntegrityError:
        existing = LedgerTransaction.objects.filter(event_key=event_key).first()
        if existing is None:
            raise
        return _replayed(existing, kind, lines)
    if kind not in NOT_FEE_KINDS:
        for account, amount in lines:
            if account.kind == K.COOP_FEES and amount < 0:
                benefits_share_post(source=posted, fee=-amount, fee_account=account)
    return posted


def benefits_share_post(
    *, source: LedgerTransaction, fee: Decimal, fee_account: LedgerAccount, rate: Decimal | None = None
) -> LedgerTransaction | None:
    """Move the benefits fund's share of a co-op fee: coop_fees (debit) → benefits (credit), in the fee's own transaction.

    ledger_post calls it for every posting that credits coop_fees (earnings,
    top-ups, dividends, bonuses, sponsored test pay; not NOT_FEE_KINDS), and
    escrow_pay_accepted writes the same rows in bulk; the event key
    "benefits:<the fee's event key>" makes it post once. The share carries the
    fee's worker (not its answer or project, whose transactions stay the
    fee's own), so a member's contributions record
    (marketplace.benefits.selectors) sums what their work gave the fund.
    """
    rate = benefits_share_rate() if rate is None else rate
    share = benefits_share_of(fee, rate)
    if share <= 0:
        return None
    fund = account_for(kind=K.BENEFITS, currency=fee_account.currency)
    return ledger_post(
        **_share_transaction(source.event_key, rate),
        entries=[(fee_account, share), (fund, -share)],
        user=source.user if source.user_id else None,
    )


def lock_account(account: LedgerAccount) -> LedgerAccount:
    """Lock an account row before reading its balance to spend from it.

    FOR NO KEY UPDATE, not FOR UPDATE: posting an entry to an account takes a
    KEY SHARE lock on its row (the foreign-key check), which FOR UPDATE would
    block, deadlocking e.g. a refund (escrow, then cash) against a funding
    (cash, then escrow). Spenders of one account still queue behind each other.
    """
    return LedgerAccount.objects.select_for_update(no_key=True).get(pk=account.pk)


CHECKPOINT_EVERY = 50


# On PostgreSQL the catch-up is plain SQL, the very statement the ORM builds from scaled_sum() (0.2 ms against
# the ORM's 1 ms to compile the aggregate: it runs on every payment); SQLite keeps the ORM.
_ENTRIES_SINCE_SQL = (
    f"SELECT SUM((ROUND((amount * {SCALE}), 0))::bigint), MAX(id), COUNT(id) FROM {LedgerEntry._meta.db_table}"
    " WHERE account_id = %s AND id > %s"
)


def _entries_since(account_id: int, entry_id: int) -> tuple[int | None, int | None, int]:
    """(sum in ten-thousandths, last id, count) of the account's entries after `entry_id`."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(_ENTRIES_SINCE_SQL, [account_id, entry_id])
            return cursor.fetchone()
    fresh = LedgerEntry.objects.filter(account_id=account_id, id__gt=entry_id).aggregate(
        total=scaled_sum(), last=Max("id"), count=Count("id")
    )
    return fresh["total"], fresh["last"], fresh["count"]


def spendable_balance(account: LedgerAccount) -> Decimal:
    """The balance of an account the caller has locked (lock_account), from its checkpoint plus newer entries.

    For accounts in LOCKED_KINDS every posting takes the row lock first, so
    while the caller holds it no entry can be in flight and the checkpoint,
    advanced here, stays exact. Other accounts are summed in full.
    """
    if account.kind not in LOCKED_KINDS:
        return account_balance(account)
    total, last, count = _entries_since(account.pk, account.checkpoint_entry_id)
    raw = account.checkpoint_scaled + int(total or 0)
    if count >= CHECKPOINT_EVERY:  # advancing it every few dozen entries keeps each read short
        LedgerAccount.objects.filter(pk=account.pk).update(checkpoint_entry_id=last, checkpoint_scaled=raw)
        account.checkpoint_entry_id, account.checkpoint_scaled = last, raw
    balance = from_scaled(raw)
    return balance if account.is_debit_normal else -balance


def _posted(event_key: str) -> bool:
    return LedgerTransaction.objects.filter(event_key=event_key).exists()
