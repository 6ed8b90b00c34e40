"""Every read of the benefits fund: a member's claims, what a decider must decide, the public figures, the contributions record."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from django.db.models import Count, Sum
from django.db.models.functions import TruncMonth

from coop.models import Membership, User
from governance.models import Elector, PolicyValue

from ..ledger.models import AccountKind, LedgerEntry, TransactionKind
from ..ledger.selectors import from_scaled, scaled_sum
from . import rules
from .models import BenefitClaim, BenefitKind

# Cells of the public breakdown with fewer claims than this show no count or amount (they could name a member).
SMALL_CELL = 5
ZERO = Decimal("0.0000")


def claims_of(member: User):
    """A member's own claims, newest first."""
    return BenefitClaim.objects.filter(member_id=member.pk).select_related("proposal", "paid_transaction").order_by("-created_at", "-id")


def can_decide(user: User | None, claim: BenefitClaim) -> bool:
    """Whether `user` is among the deciders of `claim`: an elector of its (panel or members') vote, never the claimant."""
    if user is None or not user.pk or claim.proposal_id is None or claim.member_id == user.pk:
        return False
    return Elector.objects.filter(proposal_id=claim.proposal_id, membership__user_id=user.pk).exists()


def can_see_private(user: User | None, claim: BenefitClaim) -> bool:
    """The statement and evidence: the claimant and the deciders only (stewards as such do not see them)."""
    return bool(user and user.pk and (claim.member_id == user.pk or can_decide(user, claim)))


def claims_to_decide(user: User):
    """Open claims whose vote `user` is an elector of (their panel's or all members')."""
    membership = Membership.objects.filter(user_id=user.pk).first()
    if membership is None:
        return BenefitClaim.objects.none()
    proposals = Elector.objects.filter(membership=membership).values_list("proposal_id", flat=True)
    return (
        BenefitClaim.objects.filter(status=BenefitClaim.Status.PENDING, proposal_id__in=proposals)
        .exclude(member_id=user.pk)
        .select_related("proposal")
        .order_by("created_at", "id")
    )


def claims_for_stewards():
    """What stewards watch (no private details): claims waiting for a decision or for the fund, oldest first."""
    return BenefitClaim.objects.filter(status__in=(BenefitClaim.Status.PENDING, BenefitClaim.Status.APPROVED)).order_by(
        "created_at", "id"
    )


def fund_balance(currency: str = "USD") -> Decimal:
    total = LedgerEntry.objects.filter(account__kind=AccountKind.BENEFITS, account__currency=currency).aggregate(t=scaled_sum())["t"]
    return -from_scaled(total) if total is not None else ZERO


def fund_flows(currency: str = "USD") -> dict:
    """The fund's inflow (fee shares), outflow (benefits paid) and balance, in total and by month (one query)."""
    rows = (
        LedgerEntry.objects.filter(account__kind=AccountKind.BENEFITS, account__currency=currency)
        .annotate(month=TruncMonth("transaction__created_at"))
        .values("month", "transaction__kind")
        .annotate(total=scaled_sum())
        .order_by("month")
    )
    months: dict = defaultdict(lambda: {"inflow": ZERO, "outflow": ZERO})
    for row in rows:
        credit = -from_scaled(row["total"])
        month = row["month"].date().isoformat()[:7] if hasattr(row["month"], "date") else str(row["month"])[:7]
        if credit >= 0:
            months[month]["inflow"] += credit
        else:
            months[month]["outflow"] -= credit
    by_month = [{"month": month, **values, "net": values["inflow"] - values["outflow"]} for month, values in sorted(months.items())]
    inflow = sum((m["inflow"] for m in by_month), ZERO)
    outflow = sum((m["outflow"] for m in by_month), ZERO)
    return {"currency": currency, "balance": inflow - outflow, "inflow": inflow, "outflow": outflow, "by_month": by_month}


def claims_paid_by_kind(currency: str = "USD") -> list[dict]:
    """Paid claims per kind: count and amount, both withheld (None) where fewer than SMALL_CELL claims of a kind were paid."""
    rows = {
        row["kind"]: row
        for row in BenefitClaim.objects.filter(status=BenefitClaim.Status.PAID, currency=currency)
        .values("kind")
        .annotate(count=Count("id"), amount=Sum("amount"))
    }
    table = []
    for kind, label in BenefitKind.choices:
        row = rows.get(kind, {"count": 0, "amount": ZERO})
        small = 0 < row["count"] < SMALL_CELL
        table.append(
            {
                "kind": kind,
                "label": label,
                "suppressed": small,
                "count": None if small else row["count"],
                "amount": None if small else Decimal(row["amount"] or 0).quantize(Decimal("0.0001")),
            }
        )
    return table


def rule_history() -> list[dict]:
    """Every value each benefit rule has had, newest first, with the vote that set it (none for founding values)."""
    values = PolicyValue.objects.filter(key__in=rules.RULE_POLICIES).select_related("set_by").order_by("key", "-effective_from", "-id")
    history = []
    for value in values:
        history.append(
            {
                "key": value.key,
                "label": PolicyValue.Key(value.key).label,
                "value": value.value,
                "effective_from": value.effective_from,
                "proposal": value.set_by_id,
            }
        )
    return history


def fund_transparency(currency: str = "USD") -> dict:
    """The public page and API: balance, flows by month, claims paid by kind (small cells suppressed), rules and their history."""
    return {
        **fund_flows(currency),
        "claims_paid_by_kind": claims_paid_by_kind(currency),
        "small_cell": SMALL_CELL,
        "rules": rules.rules_now(),
        "rule_history": rule_history(),
    }


def contributions_record(member: User) -> dict:
    """What a member's work gave the fund (the benefits share of the fees on their paid work) and what they drew, per currency.

    `fees` counts the fee postings their work generated (answers paid, top-ups).

    Part of the member's records export, so it can follow them to another
    co-op or a public scheme. Two queries.
    """
    given = (
        LedgerEntry.objects.filter(
            account__kind=AccountKind.BENEFITS, transaction__kind=TransactionKind.BENEFITS_SHARE, transaction__user_id=member.pk
        )
        .values("account__currency")
        .annotate(total=scaled_sum(), fees=Count("transaction_id"))
    )
    drawn = (
        BenefitClaim.objects.filter(member_id=member.pk, status=BenefitClaim.Status.PAID)
        .values("currency", "kind")
        .annotate(amount=Sum("amount"), count=Count("id"), days=Sum("days"))
    )
    record: dict = {}
    for row in given:
        record.setdefault(row["account__currency"], {"contributed": ZERO, "fees": 0, "drawn": ZERO, "claims": []})
        record[row["account__currency"]].update(contributed=-from_scaled(row["total"]), fees=row["fees"])
    for row in drawn:
        entry = record.setdefault(row["currency"], {"contributed": ZERO, "fees": 0, "drawn": ZERO, "claims": []})
        amount = Decimal(row["amount"]).quantize(Decimal("0.0001"))
        entry["drawn"] += amount
        entry["claims"].append({"kind": row["kind"], "count": row["count"], "days": row["days"], "amount": amount})
    return {"member": member.pk, "currencies": record}


def contributions_rows(member: User) -> list[dict]:
    """The contributions record as flat rows (for CSV and JSON Lines exports)."""
    rows = []
    for currency, entry in sorted(contributions_record(member)["currencies"].items()):
        rows.append(
            {"currency": currency, "item": "contributed", "kind": "", "count": entry["fees"], "days": "", "amount": entry["contributed"]}
        )
        for claim in entry["claims"]:
            rows.append({"currency": currency, "item": "drawn", **{key: claim[key] for key in ("kind", "count", "days", "amount")}})
    return rows


CONTRIBUTION_FIELDS = ["currency", "item", "kind", "count", "days", "amount"]
