"""Ledger accounts, transactions, entries (append-only) and worker payouts.

See marketplace/ledger/__init__.py for the sign convention. Transactions and
entries are never updated or deleted: `save()` on an existing row, `delete()`
and queryset `update()` / `delete()` raise, and on PostgreSQL a trigger
(migration 0002_ledger) rejects UPDATE and DELETE on both tables. A mistake is
fixed by posting a new `correction` transaction.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from coop.errors import Conflict
from coop.models import ClientOrganization, TimeStampedModel
from marketplace.error_codes import MarketplaceErrorCode

AMOUNT = {"max_digits": 18, "decimal_places": 4}


class AccountKind(models.TextChoices):
    COOP_BANK = "coop_bank", "Co-op bank (real-world money)"
    CLIENT_CASH = "client_cash", "Client cash"
    PROJECT_ESCROW = "project_escrow", "Project escrow"
    WORKER_EARNINGS = "worker_earnings", "Worker earnings (available)"
    WORKER_PAYOUT_PENDING = "worker_payout_pending", "Worker payout requested"
    COOP_FEES = "coop_fees", "Co-op fees"
    DIVIDEND_POOL = "dividend_pool", "Dividend pool"
    BENEFITS = "benefits", "Benefits fund"


# Which owner column each kind uses; the check constraint below says the same thing.
OWNER_FIELD = {
    AccountKind.COOP_BANK: None,
    AccountKind.COOP_FEES: None,
    AccountKind.DIVIDEND_POOL: None,
    AccountKind.BENEFITS: None,
    AccountKind.CLIENT_CASH: "organization",
    AccountKind.PROJECT_ESCROW: "project",
    AccountKind.WORKER_EARNINGS: "user",
    AccountKind.WORKER_PAYOUT_PENDING: "user",
}
# Accounts every posting locks first (services.ledger_post), so that a spender holding the lock sees all of
# their entries and may keep a balance checkpoint: project escrows, the busiest accounts that are spent from.
LOCKED_KINDS = frozenset({AccountKind.PROJECT_ESCROW})
# Debit-normal kinds (assets); every other kind is credit-normal.
DEBIT_NORMAL = frozenset({AccountKind.COOP_BANK})


def _owner_is(field: str | None) -> Q:
    return Q(**{f"{name}__isnull": name != field for name in ("organization", "project", "user")})


def _owner_rule() -> Q:
    rule = Q()
    for field in ("organization", "project", "user", None):
        kinds = [kind for kind, owner in OWNER_FIELD.items() if owner == field]
        rule |= Q(kind__in=kinds) & _owner_is(field)
    return rule


class LedgerAccount(models.Model):
    """One account per (kind, owner, currency). Its balance is the sum of its entries; nothing is cached."""

    kind = models.CharField(max_length=24, choices=AccountKind.choices)
    currency = models.CharField(max_length=3, default="USD")
    organization = models.ForeignKey(
        ClientOrganization, null=True, blank=True, on_delete=models.PROTECT, related_name="ledger_accounts"
    )
    project = models.ForeignKey(
        "marketplace.Project", null=True, blank=True, on_delete=models.PROTECT, related_name="ledger_accounts"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="ledger_accounts"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    # A spender's shortcut for accounts in LOCKED_KINDS (see services.spendable_balance): the raw sum, in
    # ten-thousandths, of this account's entries with id <= checkpoint_entry_id, written only while the row is
    # locked. It spares re-summing a busy escrow's whole history at every payment; balances shown anywhere else
    # are still summed from the entries, and tests check the two agree.
    checkpoint_entry_id = models.BigIntegerField(default=0, editable=False)
    checkpoint_scaled = models.BigIntegerField(default=0, editable=False)

    class Meta:
        ordering = ["kind", "currency", "id"]
        constraints = [
            models.CheckConstraint(condition=_owner_rule(), name="ledger_account_owner_matches_kind"),
            # (kind, owner, currency) is unique; one partial index per owner column because NULLs never collide.
            models.UniqueConstraint(
                fields=["kind", "organization", "currency"],
                condition=Q(organization__isnull=False),
                name="ledger_account_unique_org",
            ),
            models.UniqueConstraint(
                fields=["kind", "project", "currency"], condition=Q(project__isnull=False), name="ledger_account_unique_project"
            ),
            models.UniqueConstraint(
                fields=["kind", "user", "currency"], condition=Q(user__isnull=False), name="ledger_account_unique_user"
            ),
            models.UniqueConstraint(fields=["kind", "currency"], condition=_owner_is(None), name="ledger_account_unique_coop"),
        ]

    def __str__(self):
        owner = self.organization_id and f"org {self.organization_id}" or self.project_id and f"project {self.project_id}"
        owner = owner or (self.user_id and f"user {self.user_id}") or "co-op"
        return f"{self.get_kind_display()} · {owner} · {self.currency}"

    @property
    def is_debit_normal(self) -> bool:
        return self.kind in DEBIT_NORMAL


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise Conflict("Ledger rows are append-only; post a correction instead.", code=MarketplaceErrorCode.LEDGER_APPEND_ONLY)

    def delete(self):
        raise Conflict("Ledger rows are append-only; post a correction instead.", code=MarketplaceErrorCode.LEDGER_APPEND_ONLY)


class AppendOnlyModel(models.Model):
    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if not self._state.adding or kwargs.get("force_update") or kwargs.get("update_fields"):
            raise Conflict("Ledger rows are append-only; post a correction instead.", code=MarketplaceErrorCode.LEDGER_APPEND_ONLY)
        # Always INSERT: a new instance given an existing pk must fail, not silently UPDATE that row.
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise Conflict("Ledger rows are append-only; post a correction instead.", code=MarketplaceErrorCode.LEDGER_APPEND_ONLY)


class TransactionKind(models.TextChoices):
    DEPOSIT = "deposit", "Client deposit"
    ESCROW_FUND = "escrow_fund", "Escrow funded"
    EARNING = "earning", "Accepted answer paid"
    TOP_UP = "top_up", "Top-up"
    COOP_FEE = "coop_fee", "Co-op fee"
    PAYOUT_REQUEST = "payout_request", "Payout requested"
    PAYOUT_PAID = "payout_paid", "Payout paid"
    PAYOUT_CANCEL = "payout_cancel", "Payout cancelled"
    REFUND = "refund", "Escrow refunded"
    DIVIDEND = "dividend", "Dividend"
    CORRECTION = "correction", "Correction"

    TEST_PAY = "test_pay", "Qualification test paid"
    BONUS = "bonus", "Bonus from a client"
    BENEFITS_SHARE = "benefits_share", "Benefits fund share of a co-op fee"
    BENEFIT_PAYOUT = "benefit_payout", "Benefit paid from the fund"

class LedgerTransaction(AppendOnlyModel):
    """One business event's money movement. `event_key` is unique: an event posts once, however often it is retried."""

    event_key = models.CharField(max_length=255, unique=True, help_text='Business event identity, e.g. "earning:answer:123".')
    kind = models.CharField(max_length=16, choices=TransactionKind.choices, db_index=True)
    description = models.CharField(max_length=300, blank=True)
    reference = models.CharField(max_length=200, blank=True, help_text="Real-world reference: bank transfer, payout receipt.")
    organization = models.ForeignKey(
        ClientOrganization, null=True, blank=True, on_delete=models.PROTECT, related_name="ledger_transactions"
    )
    project = models.ForeignKey(
        "marketplace.Project", null=True, blank=True, on_delete=models.PROTECT, related_name="ledger_transactions"
    )
    answer = models.ForeignKey(
        "marketplace.Answer", null=True, blank=True, on_delete=models.PROTECT, related_name="ledger_transactions"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="ledger_transactions"
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now, editable=False, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.event_key} ({self.get_kind_display()})"


class LedgerEntry(AppendOnlyModel):
    """One signed line of a transaction: debit > 0, credit < 0, never zero."""

    transaction = models.ForeignKey(LedgerTransaction, on_delete=models.PROTECT, related_name="entries")
    account = models.ForeignKey(LedgerAccount, on_delete=models.PROTECT, related_name="entries")
    amount = models.DecimalField(**AMOUNT)

    class Meta:
        ordering = ["id"]
        verbose_name_plural = "ledger entries"
        constraints = [
            models.CheckConstraint(condition=~Q(amount=0), name="ledger_entry_not_zero"),
            models.UniqueConstraint(fields=["transaction", "account"], name="ledger_entry_one_line_per_account"),
        ]
        indexes = [
            models.Index(fields=["account", "transaction"], name="ledger_entry_by_account"),
            models.Index(fields=["account", "id"], name="ledger_entry_account_since"),
        ]

    def __str__(self):
        return f"{self.amount:+} on account {self.account_id}"


class Payout(TimeStampedModel):
    """A worker's request to be paid out, in whole cents; at most one open request per worker.

    The money is already moved to the worker's payout-pending account when
    the request is made; marking it paid or cancelled posts the second half.
    """

    class Status(models.TextChoices):
        REQUESTED = "requested", "Requested"
        PAID = "paid", "Paid"
        CANCELLED = "cancelled", "Cancelled"

    worker = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="payouts")
    amount = models.DecimalField(**AMOUNT)
    currency = models.CharField(max_length=3, default="USD")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.REQUESTED, db_index=True)
    reference = models.CharField(max_length=200, blank=True, help_text="The bank or mobile-money transfer reference.")
    request_transaction = models.OneToOneField(
        LedgerTransaction, null=True, blank=True, on_delete=models.PROTECT, related_name="payout_requested"
    )
    settle_transaction = models.OneToOneField(
        LedgerTransaction, null=True, blank=True, on_delete=models.PROTECT, related_name="payout_settled"
    )
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["worker"], condition=Q(status="requested"), name="one_open_payout_per_worker"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="payout_amount_positive"),
            models.CheckConstraint(condition=~Q(status="paid") | ~Q(reference=""), name="paid_payout_has_reference"),
        ]

    def __str__(self):
        return f"payout {self.pk}: {self.amount} {self.currency} ({self.status})"


class PayoutDestination(models.Model):
    """Where a member wants to be paid. Changing it e-mails the member and holds payouts for PAYOUT_HOLD (account takeover)."""

    class Method(models.TextChoices):
        BANK = "bank", "Bank transfer"
        MOBILE_MONEY = "mobile_money", "Mobile money (e.g. M-Pesa)"
        OTHER = "other", "Other"

    member = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="payout_destinations")
    method = models.CharField(max_length=16, choices=Method.choices)
    details = models.JSONField(help_text="What a steward needs to send the money (shown only on the payout desk).")
    masked = models.CharField(max_length=120, help_text="Shown everywhere else, e.g. 'M-Pesa ••••4321'.")
    is_current = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)
    payouts_held_until = models.DateTimeField()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["member"], condition=Q(is_current=True), name="one_current_payout_destination"),
        ]
