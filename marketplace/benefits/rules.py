"""The benefit rules as numbers: members change every one by proposal (policies `benefits_*`, governance/rules.py).

Reads only. Eligibility and amounts come from the ledger and the records,
never from what a member declares:

* eligible: an active member with at least `benefits_min_answers` accepted
  answers, or `benefits_min_hours` hours of measured active time on accepted
  answers, decided in the last 90 days;
* a day's pay: the median of the member's daily earnings (accepted answers and
  top-ups, by ledger posting day) over the days they earned in the last 90
  days, capped at `benefits_day_pay_cap`, to the cent (half-up);
* yearly limits per member and calendar year: `benefits_sick_days` and
  `benefits_parental_days` (days), `benefits_hardship_limit` and
  `benefits_equipment_limit` (amounts, in the claim's currency); a limit of 0
  switches the kind off;
* who decides: up to `benefits_auto_approve_max` the rules approve a claim
  that passes them; above `benefits_vote_threshold` all members vote; between
  the two a panel drawn at random decides.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Count, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from coop.models import Membership, User
from governance.selectors import policy_current

from ..ledger.models import AccountKind, LedgerEntry, TransactionKind
from ..ledger.selectors import from_scaled, scaled_sum
from ..models import Answer
from .models import BenefitKind

WINDOW = dt.timedelta(days=90)
CENT = Decimal("0.01")

YEARLY_LIMIT_POLICY = {
    BenefitKind.SICK_DAYS: "benefits_sick_days",
    BenefitKind.PARENTAL_LEAVE: "benefits_parental_days",
    BenefitKind.HARDSHIP: "benefits_hardship_limit",
    BenefitKind.EQUIPMENT: "benefits_equipment_limit",
}
RULE_POLICIES = (
    "benefits_share_of_fee",
    "benefits_min_answers",
    "benefits_min_hours",
    "benefits_day_pay_cap",
    "benefits_sick_days",
    "benefits_parental_days",
    "benefits_hardship_limit",
    "benefits_equipment_limit",
    "benefits_auto_approve_max",
    "benefits_vote_threshold",
)


@dataclass(frozen=True)
class Eligibility:
    eligible: bool
    active_member: bool
    accepted_answers: int
    hours: Decimal
    min_answers: int
    min_hours: Decimal

    @property
    def explanation(self) -> str:
        if not self.active_member:
            return "Benefits are for active members of the co-op."
        found = f"{self.accepted_answers} accepted answers and {self.hours} hours of accepted work in the last 90 days"
        rule = f"the rules ask for at least {self.min_answers} answers or {self.min_hours} hours"
        return f"You had {found}; {rule}."


def eligibility(member: User, *, now: dt.datetime | None = None) -> Eligibility:
    """Whether `member` may claim now, from the records (two queries and the policies)."""
    now = now or timezone.now()
    active = Membership.objects.filter(user_id=member.pk, status=Membership.Status.ACTIVE).exists()
    work = Answer.objects.filter(worker_id=member.pk, status=Answer.Status.ACCEPTED, decided_at__gte=now - WINDOW).aggregate(
        count=Count("id"), seconds=Sum("active_seconds")
    )
    hours = (Decimal(work["seconds"] or 0) / 3600).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    min_answers = int(policy_current("benefits_min_answers"))
    min_hours = policy_current("benefits_min_hours").quantize(Decimal("0.1"))
    enough = work["count"] >= min_answers or hours >= min_hours
    return Eligibility(active and enough, active, work["count"], hours, min_answers, min_hours)


def median(values: list[Decimal]) -> Decimal:
    ordered = sorted(values)
    if not ordered:
        return Decimal(0)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return (ordered[middle - 1] + ordered[middle]) / 2


def day_pay(member: User, *, currency: str = "USD", now: dt.datetime | None = None) -> dict:
    """A day's benefit pay: the median daily earnings over the member's earning days in the last 90 days, capped."""
    now = now or timezone.now()
    rows = (
        LedgerEntry.objects.filter(
            account__kind=AccountKind.WORKER_EARNINGS,
            account__user_id=member.pk,
            account__currency=currency,
            transaction__kind__in=(TransactionKind.EARNING, TransactionKind.TOP_UP),
            transaction__created_at__gte=now - WINDOW,
        )
        .annotate(day=TruncDate("transaction__created_at"))
        .values("day")
        .annotate(total=scaled_sum())
    )
    daily = [-from_scaled(row["total"]) for row in rows]
    med = median(daily)
    cap = policy_current("benefits_day_pay_cap")
    pay = min(med, cap).quantize(CENT, rounding=ROUND_HALF_UP)
    return {"median": med.quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP), "cap": cap, "day_pay": pay, "earning_days": len(daily)}


def yearly_limit(kind: str) -> Decimal:
    return policy_current(YEARLY_LIMIT_POLICY[kind])


def route_for(amount: Decimal) -> str:
    """Who decides a claim that passes the rules: "rules", "panel" or "members" (by amount)."""
    if amount <= policy_current("benefits_auto_approve_max"):
        return "rules"
    if amount > policy_current("benefits_vote_threshold"):
        return "members"
    return "panel"


def rules_now() -> dict[str, Decimal]:
    """Every benefit rule in force now, by policy key."""
    return {key: policy_current(key) for key in RULE_POLICIES}
