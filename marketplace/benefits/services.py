"""Every write of the benefits fund: filing a claim, deciding it, paying approved claims from the fund.

Money rule: a claim is paid only through the ledger (ledger_post, kind
benefit_payout: benefits → the member's worker_earnings, event key
"benefit:claim:<id>"), only while the fund's balance covers it, and approved
claims are paid strictly oldest first (a large claim at the head of the queue
is not jumped by smaller ones). Locks: a member's filings queue on their
membership row; a decision locks the claim row; paying locks the currency's
benefits account (lock_account) and then updates claim rows.

Privacy rule: the statement and evidence never reach the governance log or a
proposal; the log gets only the decision and the amount.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from coop.errors import ApplicationError, Conflict, Forbidden
from coop.models import Membership, User
from governance.error_codes import GovernanceErrorCode
from governance.rules import PANEL_QUORUM_PCT, panel_size
from governance.services.audit import log_write
from governance.services.due_process import panel_draw
from governance.services.notify import notify_users
from governance.services.proposals import proposal_create_unchecked
from marketplace.error_codes import MarketplaceErrorCode

from ..ledger.models import AccountKind, LedgerTransaction, TransactionKind
from ..ledger.selectors import account_balance
from ..ledger.services import account_for, ledger_post, lock_account, money
from . import rules
from .models import DAY_KINDS, BenefitClaim, BenefitEvidence, BenefitKind

S = BenefitClaim.Status
MAX_EVIDENCE_BYTES = 2 * 1024 * 1024
EVIDENCE_TYPES = ("application/pdf", "image/png", "image/jpeg", "text/plain")
LIVE = (S.PENDING, S.APPROVED, S.PAID)  # claims that count toward limits and overlaps


def claim_url(claim: BenefitClaim) -> str:
    return f"/work/benefits/claims/{claim.pk}/"


def _date(value, field: str) -> dt.date:
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, str):
        try:
            value = dt.date.fromisoformat(value.strip())
        except ValueError:
            value = None
    if not isinstance(value, dt.date):
        raise ApplicationError(f"'{field}' must be a date (YYYY-MM-DD).", code=MarketplaceErrorCode.INVALID_DATES, fields={field: ["A date."]})
    return value


def _validate_dates(start, end, today: dt.date) -> tuple[dt.date, dt.date]:
    start, end = _date(start, "start_date"), _date(end, "end_date")
    if end < start:
        raise ApplicationError("The last day is before the first day.", code=MarketplaceErrorCode.INVALID_DATES, fields={"end_date": ["Before the start."]})
    if start.year != end.year:
        raise ApplicationError(
            f"Yearly limits count by calendar year: file one claim up to {start.year}-12-31 and another from {end.year}-01-01.",
            code=MarketplaceErrorCode.INVALID_DATES,
            fields={"end_date": ["In another year."]},
        )
    if start < today - dt.timedelta(days=365) or end > today + dt.timedelta(days=365):
        raise ApplicationError("A claim covers days within a year of today.", code=MarketplaceErrorCode.INVALID_DATES, fields={"start_date": ["Too far."]})
    return start, end


def _evidence(note: str, upload) -> tuple[str, tuple[str, str, bytes] | None]:
    note = (note or "").strip()
    if len(note) > 5000:
        raise ApplicationError("Evidence notes have at most 5,000 characters.", fields={"evidence_note": ["Too long."]})
    if upload is None:
        return note, None
    name, content_type, content = upload
    if content_type not in EVIDENCE_TYPES:
        raise ApplicationError(
            "Evidence may be a PDF, a PNG or JPEG image or a text file.", code=MarketplaceErrorCode.INVALID_EVIDENCE, fields={"evidence": ["Type."]}
        )
    if not content or len(content) > MAX_EVIDENCE_BYTES:
        raise ApplicationError("Evidence files are 1 byte to 2 MiB.", code=MarketplaceErrorCode.INVALID_EVIDENCE, fields={"evidence": ["Size."]})
    return note, ((name or "evidence")[-200:], content_type, bytes(content))


@transaction.atomic
def benefit_claim_file(
    *,
    member: User,
    kind: str,
    start_date,
    end_date,
    statement: str,
    amount: Decimal | None = None,
    currency: str = "USD",
    evidence_note: str = "",
    evidence_file: tuple[str, str, bytes] | None = None,
    now: dt.datetime | None = None,
) -> BenefitClaim:
    """A member files a claim; the rules check it and it is approved at once, or sent to a panel or to all members.

    Refuses, changing nothing, with a reason: an unknown kind or a kind the
    members switched off, bad or overlapping dates (a member's day claims may
    not share a day), a member who is not eligible (the records say why), a
    claim beyond the yearly limit (it says what is left), a day claim with no
    earnings to base a day's pay on. Amount kinds (hardship, equipment) state
    `amount`; day kinds are paid days × a day's pay. Locks the member's
    membership row so that two filings at once cannot both use the last days.
    """
    now = now or timezone.now()
    today = timezone.localdate(now)
    if kind not in BenefitKind.values:
        raise ApplicationError(
            "Choose a kind of benefit: " + ", ".join(BenefitKind.values) + ".", code=MarketplaceErrorCode.INVALID_KIND, fields={"kind": ["Unknown."]}
        )
    if currency not in settings.COOP_CURRENCIES:
        raise ApplicationError(f"The co-op keeps no books in {currency}.", code=MarketplaceErrorCode.UNSUPPORTED_CURRENCY, fields={"currency": ["Unsupported."]})
    membership = Membership.objects.select_for_update(of=("self",)).filter(user_id=getattr(member, "pk", None)).first()
    if membership is None:
        raise Forbidden("Only members of the co-op can claim benefits.", code=GovernanceErrorCode.NOT_A_MEMBER)
    start, end = _validate_dates(start_date, end_date, today)
    statement = (statement or "").strip()
    if not 10 <= len(statement) <= 5000:
        raise ApplicationError(
            "Say what the claim is for (10 to 5,000 characters).", code=MarketplaceErrorCode.STATEMENT_REQUIRED, fields={"statement": ["Required."]}
        )
    note, upload = _evidence(evidence_note, evidence_file)
    eligible = rules.eligibility(member, now=now)
    if not eligible.eligible:
        raise ApplicationError(
            eligible.explanation,
            code=GovernanceErrorCode.NOT_ELIGIBLE,
            extra={"accepted_answers": eligible.accepted_answers, "hours": str(eligible.hours)},
        )
    limit = rules.yearly_limit(kind)
    label = BenefitKind(kind).label
    if limit <= 0:
        raise ApplicationError(f"The members have not set a yearly limit for {label.lower()}: it is switched off.", code=MarketplaceErrorCode.KIND_OFF)
    mine = BenefitClaim.objects.filter(member_id=member.pk, status__in=LIVE)
    day_kind = kind in DAY_KINDS
    if day_kind:
        overlapping = mine.filter(kind__in=DAY_KINDS, start_date__lte=end, end_date__gte=start).order_by("start_date").first()
        if overlapping is not None:
            raise ApplicationError(
                f"These dates overlap your claim #{overlapping.pk} ({overlapping.get_kind_display().lower()}, "
                f"{overlapping.start_date} to {overlapping.end_date}).",
                code=MarketplaceErrorCode.OVERLAPPING_DATES,
                fields={"start_date": ["Overlaps another claim."]},
            )
    this_year = mine.filter(kind=kind, start_date__year=start.year)
    rules_check = [eligible.explanation.replace("You had", "Had").split(";")[0] + "."]
    if day_kind:
        days = (end - start).days + 1
        used = sum(this_year.values_list("days", flat=True))
        if used + days > limit:
            raise ApplicationError(
                f"That is {days} days; {int(limit) - used} of the {int(limit)} {label.lower()} days a year are left for {start.year}.",
                code=MarketplaceErrorCode.BEYOND_YEARLY_LIMIT,
                extra={"left": int(limit) - used},
            )
        pay = rules.day_pay(member, currency=currency, now=now)
        if pay["day_pay"] <= 0:
            raise ApplicationError(
                "A day's pay is your median daily earnings over the last 90 days, and there are none to go by.",
                code=MarketplaceErrorCode.NO_RECENT_EARNINGS,
            )
        day_pay, total = pay["day_pay"], pay["day_pay"] * days
        rules_check.append(
            f"{days} days at {currency} {day_pay} a day (median of {pay['earning_days']} earning days, capped at {pay['cap']})."
        )
    else:
        if amount is None:
            raise ApplicationError("Say how much you need.", code=MarketplaceErrorCode.INVALID_AMOUNT, fields={"amount": ["Required."]})
        total = money(amount)
        if total != total.quantize(Decimal("0.01")):
            raise ApplicationError("Amounts are in whole cents.", code=MarketplaceErrorCode.INVALID_AMOUNT, fields={"amount": ["Cents."]})
        used = sum(this_year.values_list("amount", flat=True), Decimal(0))
        if used + total > limit:
            raise ApplicationError(
                f"{currency} {limit - used:.2f} of the {currency} {limit:.2f} {label.lower()} support a year is left for {start.year}.",
                code=MarketplaceErrorCode.BEYOND_YEARLY_LIMIT,
                extra={"left": str(limit - used)},
            )
        days, day_pay = 0, None
    rules_check.append(f"Within the yearly limit ({label.lower()}: {limit}).")
    route = rules.route_for(total)
    claim = BenefitClaim.objects.create(
        member=member,
        kind=kind,
        start_date=start,
        end_date=end,
        days=days,
        day_pay=day_pay,
        amount=total,
        currency=currency,
        statement=statement,
        route=route,
        rules_check=" ".join(rules_check),
        created_at=now,
    )
    if note or upload:
        name, content_type, content = upload or ("", "", None)
        BenefitEvidence.objects.create(claim=claim, note=note, filename=name, content_type=content_type, content=content)
    if route == BenefitClaim.Route.RULES:
        return benefit_claim_decide(
            claim=claim, approve=True, reasons="Approved by the rules: " + " ".join(rules_check), now=now
        )
    _send_to_deciders(claim, membership=membership, now=now)
    return claim


def conflicted_for(claim: BenefitClaim) -> set[int]:
    """Memberships kept off a claim's panel and vote: the claimant, and members with an undecided claim of their own."""
    claimants = BenefitClaim.objects.filter(status=S.PENDING).exclude(pk=claim.pk).values_list("member_id", flat=True)
    return set(Membership.objects.filter(user_id__in={claim.member_id, *claimants}).values_list("pk", flat=True))


def _send_to_deciders(claim: BenefitClaim, *, membership: Membership, now: dt.datetime) -> None:
    """Open the panel's or the members' secret vote on a claim; the proposal says the amount, never the statement."""
    from governance.models import Proposal, ProposalKind

    excluded = conflicted_for(claim)
    panel = None
    if claim.route == BenefitClaim.Route.PANEL:
        panel = panel_draw(size=panel_size(), exclude=excluded) or None
        if panel is None:  # nobody left to draw: all members decide
            claim.route = BenefitClaim.Route.MEMBERS
    proposal = proposal_create_unchecked(
        creator=None,
        kind=ProposalKind.BENEFIT_CLAIM,
        effect_key="benefit_claim",
        title=f"Benefit claim #{claim.pk}: {claim.currency} {claim.amount:.2f}",
        body=(
            f"A member claims {claim.currency} {claim.amount:.2f} from the benefits fund. The kind, the dates, what the "
            f"rules found, the statement and any evidence are on the claim's page, for the deciders only: {claim_url(claim)}"
        ),
        payload={"claim": claim.pk, "amount": str(claim.amount), "currency": claim.currency},
        subject=claim,
        electorate=panel,
        decided_by=Proposal.DecidedBy.PANEL if panel else Proposal.DecidedBy.MEMBERS,
        quorum_pct=PANEL_QUORUM_PCT if panel else None,
        conflicted=excluded,
        now=now,
    )
    claim.proposal = proposal
    claim.save(update_fields=["proposal", "route", "updated_at"])
    if panel:
        log_write(
            actor=None,
            action="benefit_claim.panel_drawn",
            obj=proposal,
            summary=f"Panel of {len(panel)} drawn for benefit claim #{claim.pk}",
            data={"panel": sorted(m.pk for m in panel), "excluded": sorted(excluded)},
        )
        notify_users(
            users=[m.user for m in Membership.objects.filter(pk__in=[m.pk for m in panel]).select_related("user")],
            kind="benefits.panel",
            title="You were drawn to decide a benefit claim",
            body="Read the claim and vote by the deadline.",
            url=claim_url(claim),
            force=True,
        )
    notify_users(
        users=[claim.member],
        kind="benefits.filed",
        title="Your benefit claim is filed",
        body=f"It goes to {claim.get_route_display().lower()}; it will be decided by {proposal.closes_at:%Y-%m-%d %H:%M} UTC.",
        url=claim_url(claim),
        force=True,
    )


@transaction.atomic
def benefit_claim_decide(*, claim: BenefitClaim, approve: bool, reasons: str, now: dt.datetime | None = None) -> BenefitClaim:
    """Record the decision on a pending claim, with its reasons; an approved claim is paid or queued for the fund.

    Called by the rules (benefit_claim_file) and by the effects of the panel's
    or members' vote (governance_effects). Locks the claim row: a second
    decision (a retried job, a racing thread) gets Conflict("already_decided")
    and pays nothing. The governance log gets the decision and the amount only.
    """
    now = now or timezone.now()
    claim = BenefitClaim.objects.select_for_update(of=("self",)).select_related("member").get(pk=claim.pk)
    if claim.status != S.PENDING:
        raise Conflict(f"Claim #{claim.pk} is already decided ({claim.get_status_display().lower()}).", code=GovernanceErrorCode.ALREADY_DECIDED)
    reasons = (reasons or "").strip()
    if not reasons:
        raise ApplicationError("A decision gives its reasons.", code=MarketplaceErrorCode.REASONS_REQUIRED, fields={"reasons": ["Required."]})
    claim.status = S.APPROVED if approve else S.REJECTED
    claim.decided_at, claim.decision_reasons = now, reasons[:5000]
    claim.save(update_fields=["status", "decided_at", "decision_reasons", "updated_at"])
    decision = "approved" if approve else "not approved"
    log_write(
        actor=None,
        action="benefit_claim.decided",
        obj=claim,
        summary=f"Benefit claim #{claim.pk} {decision}: {claim.currency} {claim.amount:.2f}",
        data={"decision": "approved" if approve else "rejected", "amount": str(claim.amount), "currency": claim.currency},
    )
    notify_users(
        users=[claim.member],
        kind="benefits.decided",
        title=f"Your benefit claim is {decision}",
        body=reasons[:500],
        url=claim_url(claim),
        force=True,
    )
    if approve:
        benefit_claims_pay_queued(currency=claim.currency, now=now)
        claim.refresh_from_db()
    return claim


@transaction.atomic
def benefit_claims_pay_queued(*, currency: str = "USD", now: dt.datetime | None = None) -> int:
    """Pay approved claims in `currency` from the fund, oldest first, while its balance covers the next one. Idempotent.

    Locks the currency's benefits account (nothing else spends from it, so
    payouts cannot overdraw it: inflows only add). Stops at the first claim
    the fund cannot cover, so an older claim is never overtaken. Returns how
    many claims were paid. Run after each approval and by the scheduler.
    """
    now = now or timezone.now()
    queue = list(BenefitClaim.objects.filter(status=S.APPROVED, currency=currency).order_by("created_at", "id"))
    if not queue:
        return 0
    fund = lock_account(account_for(kind=AccountKind.BENEFITS, currency=currency))
    balance = account_balance(fund)
    paid = 0
    for claim in BenefitClaim.objects.filter(pk__in=[c.pk for c in queue]).order_by("created_at", "id"):
        if claim.status != S.APPROVED:
            continue
        if claim.amount > balance:
            break
        earnings = account_for(kind=AccountKind.WORKER_EARNINGS, user=claim.member, currency=currency)
        posted = ledger_post(
            event_key=f"benefit:claim:{claim.pk}",
            kind=TransactionKind.BENEFIT_PAYOUT,
            entries=[(fund, claim.amount), (earnings, -claim.amount)],
            description=f"Benefit: {claim.get_kind_display().lower()} (claim #{claim.pk})",
            user=claim.member,
        )
        updated = BenefitClaim.objects.filter(pk=claim.pk, status=S.APPROVED).update(
            status=S.PAID, paid_transaction=posted, paid_at=now, updated_at=now
        )
        if updated:
            balance -= claim.amount
            paid += 1
            notify_users(
                users=[claim.member],
                kind="benefits.paid",
                title=f"{claim.currency} {claim.amount:.2f} from the benefits fund is in your earnings",
                url="/work/earnings/",
                force=True,
            )
    return paid


def benefit_payout_of(claim: BenefitClaim) -> LedgerTransaction | None:
    return LedgerTransaction.objects.filter(event_key=f"benefit:claim:{claim.pk}").first()
