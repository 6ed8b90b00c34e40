"""Benefit claims and their private evidence. Money is never stored here as a balance: the ledger holds it."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from coop.models import TimeStampedModel

AMOUNT = {"max_digits": 18, "decimal_places": 4}


class BenefitKind(models.TextChoices):
    SICK_DAYS = "sick_days", "Sick days"
    PARENTAL_LEAVE = "parental_leave", "Parental leave"
    HARDSHIP = "hardship", "Hardship"
    EQUIPMENT = "equipment", "Equipment"


# Kinds paid per day (days × a day's pay); the others ask for an amount.
DAY_KINDS = frozenset({BenefitKind.SICK_DAYS, BenefitKind.PARENTAL_LEAVE})


class BenefitClaim(TimeStampedModel):
    """A member's claim on the fund. The statement and evidence are private: the member and the deciders only.

    Status moves pending → approved → paid, or pending → rejected; an approved
    claim waits (oldest first) while the fund is short. Only the services in
    marketplace.benefits.services write it.
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting for a decision"
        APPROVED = "approved", "Approved, waiting for the fund"
        PAID = "paid", "Paid"
        REJECTED = "rejected", "Not approved"

    class Route(models.TextChoices):
        RULES = "rules", "The rules (small claim within the rules)"
        PANEL = "panel", "A panel of members drawn at random"
        MEMBERS = "members", "A vote of all members"

    member = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="benefit_claims")
    kind = models.CharField(max_length=16, choices=BenefitKind.choices)
    start_date = models.DateField()
    end_date = models.DateField()
    days = models.PositiveIntegerField(default=0, help_text="Days claimed (day kinds); 0 for an amount claim.")
    day_pay = models.DecimalField(null=True, blank=True, **AMOUNT)
    amount = models.DecimalField(**AMOUNT)
    currency = models.CharField(max_length=3, default="USD")
    statement = models.TextField(help_text="Private: the member and the deciders only.")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING, db_index=True)
    route = models.CharField(max_length=8, choices=Route.choices)
    rules_check = models.TextField(blank=True, help_text="What the rules found when the claim was filed.")
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_reasons = models.TextField(blank=True)
    proposal = models.OneToOneField(
        "governance.Proposal", null=True, blank=True, on_delete=models.PROTECT, related_name="benefit_claim"
    )
    paid_transaction = models.OneToOneField(
        "marketplace.LedgerTransaction", null=True, blank=True, on_delete=models.PROTECT, related_name="benefit_claim"
    )
    paid_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="benefit_claim_amount_positive"),
            models.CheckConstraint(condition=Q(end_date__gte=F("start_date")), name="benefit_claim_dates_in_order"),
            models.CheckConstraint(
                condition=~Q(status="paid") | Q(paid_transaction__isnull=False), name="benefit_claim_paid_has_transaction"
            ),
        ]
        indexes = [
            models.Index(fields=["status", "currency", "created_at", "id"], name="benefit_claim_queue"),
            models.Index(fields=["member", "start_date"], name="benefit_claim_member_dates"),
        ]

    def __str__(self):
        return f"benefit claim {self.pk}: {self.kind} {self.amount} {self.currency} ({self.status})"


class BenefitEvidence(models.Model):
    """Optional evidence for a claim, kept in the database (never under MEDIA_URL) and shown only to the deciders."""

    claim = models.OneToOneField(BenefitClaim, on_delete=models.PROTECT, related_name="evidence")
    note = models.TextField(blank=True)
    filename = models.CharField(max_length=200, blank=True)
    content_type = models.CharField(max_length=100, blank=True)
    content = models.BinaryField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return f"evidence for claim {self.claim_id}"
