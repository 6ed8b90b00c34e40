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
