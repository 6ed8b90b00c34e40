"""Rate cards by skill, set by the members: a minimum hourly pay for work that requires a qualification (or a tier).

Any active member proposes a rate (it goes to a vote once co-sponsored, like other members' proposals:
policy `proposal_cosponsors`); the passed vote writes the rate (RateCardRate, which always names its
proposal). Publication checks the highest applicable rate (eligibility.expert_rate_check); a live project
left below a raised rate leaves the feed at once (eligibility.expert_refusal).
"""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from coop.errors import ApplicationError
from coop.models import User

from .models import Qualification, RateCardRate
from .qualifications import _decimal

MAX_RATE = Decimal("10000")


def rate_in_force(*, qualification: Qualification | None = None, tier: str = "", currency: str = "USD") -> RateCardRate | None:
    rates = RateCardRate.objects.filter(currency=currency)
    rates = rates.filter(qualification=qualification) if qualification is not None else rates.filter(tier=tier, qualification__isnull=True)
    return rates.order_by("-effective_from", "-id").first()


def rate_card_propose(
    *, author: User, hourly_minimum, qualification: Qualification | None = None, tier: str = "", reason: str = "", currency: str = "USD"
):
    """A member proposes a minimum hourly pay for a qualification or a tier; members decide by vote. Bad input writes nothing."""
    from governance import selectors as governance_selectors
    from governance.models import ProposalKind
    from governance.services.initiative import active_membership
    from governance.services.proposals import proposal_create_unchecked

    active_membership(author, action="propose rate cards")
    tier = slugify(tier or "")[:40]
    if (qualification is None) == (not tier):
        raise ApplicationError("Name either a qualification or a tier.", fields={"qualification": ["One of qualification or tier."]})
    rate = _decimal(hourly_minimum, field="hourly_minimum", places=2)
    if not 0 < rate <= MAX_RATE:
        raise ApplicationError(f"An hourly minimum above 0 and at most {MAX_RATE}.", fields={"hourly_minimum": ["Out of range."]})
    current = rate_in_force(qualification=qualification, tier=tier, currency=currency)
    what = f"“{qualification.name}”" if qualification is not None else f"the {tier} tier"
    change = f"from {current.hourly_minimum} to {rate}" if current else f"at {rate}"
    body = f"Set the minimum pay for work that requires {what} {change} {currency}/hour."
    if reason.strip():
        body += f"\n\n{reason.strip()[:4000]}"
    required = int(governance_selectors.policy_current("proposal_cosponsors"))
    with transaction.atomic():
        return proposal_create_unchecked(
            creator=author,
            kind=ProposalKind.RATE_CARD_CHANGE,
            title=f"Rate card: {what} at {rate} {currency}/hour"[:200],
            body=body,
            payload={
                "qualification_id": qualification.pk if qualification else None,
                "tier": tier,
                "hourly_minimum": str(rate),
                "currency": currency,
                "previous": str(current.hourly_minimum) if current else None,
            },
            subject=qualification,
            sponsors_required=max(1, required),
        )


def rate_card_apply(*, proposal) -> RateCardRate:
    """The effect of a passed rate_card_change vote: the new rate is in force from the close. Once per proposal."""
    existing = RateCardRate.objects.filter(proposal=proposal).first()
    if existing is not None:
        return existing
    payload = proposal.payload
    qualification = Qualification.objects.get(pk=payload["qualification_id"]) if payload.get("qualification_id") else None
    return RateCardRate.objects.create(
        qualification=qualification,
        tier="" if qualification else payload["tier"],
        hourly_minimum=Decimal(payload["hourly_minimum"]),
        currency=payload.get("currency") or "USD",
        proposal=proposal,
        effective_from=proposal.closed_at or timezone.now(),
    )
