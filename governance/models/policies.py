"""Co-op policies: numbers the members change only by vote (the pay floor, the co-op fee)."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from .base import AppendOnly


class PolicyValue(AppendOnly, models.Model):
    """Append-only: each row is a value of a policy from `effective_from` on, and the vote that set it.

    The value in force at time t is the row with the latest effective_from <= t
    (governance.selectors.policy_current). Rows are never edited or deleted.
    """

    class Key(models.TextChoices):
        PAY_FLOOR_HOURLY = "pay_floor_hourly", "Pay floor (USD per hour)"
        COOP_FEE_RATE = "coop_fee_rate", "Co-op fee (share of client payments)"
        PROPOSAL_COSPONSORS = "proposal_cosponsors", "Co-sponsors a member's proposal needs"
        PROXY_LIMIT = "proxy_limit", "Proxies one delegate may hold"
        INTERIM_SUSPENSION_DAYS = "interim_suspension_days", "Longest interim suspension (days)"
        APPEAL_WINDOW_DAYS = "appeal_window_days", "Days to appeal a rejected answer"
        # The benefits fund (marketplace/benefits): its share of every fee and the rules of its claims.
        BENEFITS_SHARE_OF_FEE = "benefits_share_of_fee", "Share of the co-op fee set aside for the benefits fund"
        BENEFITS_MIN_ANSWERS = "benefits_min_answers", "Accepted answers in 90 days that make a member eligible for benefits"
        BENEFITS_MIN_HOURS = "benefits_min_hours", "Hours of accepted work in 90 days that make a member eligible for benefits"
        BENEFITS_DAY_PAY_CAP = "benefits_day_pay_cap", "Most a benefit day pays"
        BENEFITS_SICK_DAYS = "benefits_sick_days", "Paid sick days per member per year"
        BENEFITS_PARENTAL_DAYS = "benefits_parental_days", "Paid parental-leave days per member per year"
        BENEFITS_HARDSHIP_LIMIT = "benefits_hardship_limit", "Hardship support per member per year"
        BENEFITS_EQUIPMENT_LIMIT = "benefits_equipment_limit", "Equipment support per member per year"
        BENEFITS_AUTO_APPROVE_MAX = "benefits_auto_approve_max", "Largest benefit claim the rules approve without a decision"
        BENEFITS_VOTE_THRESHOLD = "benefits_vote_threshold", "Benefit claims above this go to all members (below it, to a panel)"

    key = models.CharField(max_length=48, choices=Key.choices)
    value = models.DecimalField(max_digits=12, decimal_places=4)
    effective_from = models.DateTimeField()
    set_by = models.ForeignKey(
        "governance.Proposal",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="policy_values",
        help_text="The vote that set it (empty for the founding values).",
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["key", "-effective_from", "-id"]
        indexes = [models.Index(fields=["key", "-effective_from"], name="policy_value_lookup")]

    def __str__(self):
        return f"{self.key} = {self.value} from {self.effective_from:%Y-%m-%d %H:%M}"
