"""Worker payouts: request, mark paid, cancel. The money half of each step is a ledger transaction.

A payout moves whole cents from the worker's available earnings to their
payout-pending account when requested, and from there to the co-op's bank
when a steward records the transfer (or back to earnings when cancelled).
"""

from __future__ import annotations

from decimal import ROUND_DOWN, Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone

from coop.errors import ApplicationError, Conflict, Forbidden
from coop.models import User
from coop.services.notifications import notification_send
from coop.validation import require_steward
from marketplace.error_codes import MarketplaceErrorCode

from .models import AccountKind, Payout, TransactionKind
from .payout_destinations import payout_hold_check
from .selectors import account_balance
from .services import MONEY_STEWARD, account_for, ledger_post, lock_account, money, required_text

K = AccountKind
T = TransactionKind
CENT = Decimal("0.01")
# A worker may request a payout once their available balance, rounded down to
# whole cents, reaches this amount (in the currency of the payout). Smaller sums
# stay in the balance and carry over; transfer fees would eat them otherwise.
PAYOUT_MINIMUM = Decimal("10.00")


@transaction.atomic
def payout_request(*, worker: User, amount: Decimal | None = None, currency: str = "USD") -> Payout:
    """A worker asks to be paid `amount` (default: everything available): worker_earnings → worker_payout_pending.

    Money rule: the payout is rounded DOWN to whole cents; the sub-cent
    remainder stays in the worker's balance for later. Refuses a payout below
    PAYOUT_MINIMUM ("below_payout_minimum"), above the available balance
    ("insufficient_balance"), or while another request is open ("payout_open";
    also a partial unique index). Locks the worker's earnings account.
    """
    earnings = lock_account(account_for(kind=K.WORKER_EARNINGS, user=worker, currency=currency))
    pending = account_for(kind=K.WORKER_PAYOUT_PENDING, user=worker, currency=currency)
    payout_hold_check(worker)  # a payout destination changed in the last 24 hours: the account-takeover guard
    if Payout.objects.filter(worker=worker, status=Payout.Status.REQUESTED).exists():
        raise Conflict("You already have a payout request open.", code=MarketplaceErrorCode.PAYOUT_OPEN)
    available = account_balance(earnings)
    requested = available if amount is None else money(amount)
    if requested > available:
        raise ApplicationError(f"You have {available} {currency} available.", code=MarketplaceErrorCode.INSUFFICIENT_BALANCE)
    payout_amount = requested.quantize(CENT, rounding=ROUND_DOWN)
    if payout_amount < PAYOUT_MINIMUM:
        raise ApplicationError(
            f"Payouts start at {PAYOUT_MINIMUM} {currency}; smaller balances carry over.",
            code=MarketplaceErrorCode.BELOW_PAYOUT_MINIMUM,
            extra={"minimum": str(PAYOUT_MINIMUM), "available": str(available)},
        )
    try:
        with transaction.atomic():
            payout = Payout.objects.create(worker=worker, amount=payout_amount, currency=currency)
    except IntegrityError:
        raise Conflict("You already have a payout request open.", code=MarketplaceErrorCode.PAYOUT_OPEN) from None
    payout.request_transaction = ledger_post(
        event_key=f"payout:{payout.pk}:request",
        kind=T.PAYOUT_REQUEST,
        entries=[(earnings, payout_amount), (pending, -payout_amount)],
        description=f"Payout #{payout.pk} requested",
        created_by=worker,
        user=worker,
    )
    payout.save(update_fields=["request_transaction", "updated_at"])
    return payout


def _locked_payout(payout: Payout) -> Payout:
    return Payout.objects.select_for_update(of=("self",)).select_related("worker").get(pk=payout.pk)


@transaction.atomic
def payout_mark_paid(*, payout: Payout, reference: str, steward: User) -> Payout:
    """A steward records that the money left the co-op's bank: worker_payout_pending → coop_bank.

    Idempotent with the same reference; Conflict when already paid with another
    reference or cancelled. Locks the payout row.
    """
    require_steward(steward, MONEY_STEWARD, superuser=True)
    reference = required_text(reference, field="reference")
    payout = _locked_payout(payout)
    if payout.worker_id == steward.pk:
        raise Forbidden("Another steward must record your own payout: nobody marks their own pay as sent.", code=MarketplaceErrorCode.OWN_PAYOUT)
    if payout.status == Payout.Status.PAID:
        if payout.reference == reference:
            return payout
        raise Conflict(f"Payout #{payout.pk} was already paid (reference {payout.reference}).", code=MarketplaceErrorCode.PAYOUT_ALREADY_PAID)
    if payout.status != Payout.Status.REQUESTED:
        raise Conflict(f"Payout #{payout.pk} was cancelled.", code=MarketplaceErrorCode.PAYOUT_CANCELLED)
    payout_hold_check(payout.worker)  # the destination changed after the request: wait out the hold before sending
    pending = account_for(kind=K.WORKER_PAYOUT_PENDING, user=payout.worker, currency=payout.currency)
    bank = account_for(kind=K.COOP_BANK, currency=payout.currency)
    payout.settle_transaction = ledger_post(
        event_key=f"payout:{payout.pk}:paid",
        kind=T.PAYOUT_PAID,
        entries=[(pending, payout.amount), (bank, -payout.amount)],
        description=f"Payout #{payout.pk} paid",
        created_by=steward,
        reference=reference,
        user=payout.worker,
    )
    payout.status, payout.reference, payout.decided_by, payout.decided_at = Payout.Status.PAID, reference, steward, timezone.now()
    payout.save(update_fields=["settle_transaction", "status", "reference", "decided_by", "decided_at", "updated_at"])
    notification_send(
        user=payout.worker,
        kind="payout.paid",
        title=f"Your payout of {payout.currency} {payout.amount} was sent",
        body=f"Transfer reference: {reference}.",
        url="/work/earnings/",
    )
    return payout


@transaction.atomic
def payout_cancel(*, payout: Payout, actor: User) -> Payout:
    """The worker (or a steward) withdraws an open request: worker_payout_pending → worker_earnings. Locks the payout row."""
    payout = _locked_payout(payout)
    if actor.pk != payout.worker_id:
        require_steward(actor, MONEY_STEWARD, superuser=True)
    if payout.status == Payout.Status.CANCELLED:
        return payout
    if payout.status != Payout.Status.REQUESTED:
        raise Conflict(f"Payout #{payout.pk} was already paid.", code=MarketplaceErrorCode.PAYOUT_ALREADY_PAID)
    pending = account_for(kind=K.WORKER_PAYOUT_PENDING, user=payout.worker, currency=payout.currency)
    earnings = account_for(kind=K.WORKER_EARNINGS, user=payout.worker, currency=payout.currency)
    payout.settle_transaction = ledger_post(
        event_key=f"payout:{payout.pk}:cancel",
        kind=T.PAYOUT_CANCEL,
        entries=[(pending, payout.amount), (earnings, -payout.amount)],
        description=f"Payout #{payout.pk} cancelled",
        created_by=actor,
        user=payout.worker,
    )
    payout.status, payout.decided_by, payout.decided_at = Payout.Status.CANCELLED, actor, timezone.now()
    payout.save(update_fields=["settle_transaction", "status", "decided_by", "decided_at", "updated_at"])
    return payout
