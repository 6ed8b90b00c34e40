"""A panel's or the members' vote on a benefit claim decides it (governance cannot import the marketplace: it calls these by key).

Imported once, from MarketplaceConfig.ready(). The claim's decision and
payout are direct calls to services.benefit_claim_decide.
"""

from __future__ import annotations

from governance.effects import register_effect, register_on_fail

from .services import benefit_claim_decide


def _deciders(proposal) -> str:
    who = "the panel drawn for it" if proposal.decided_by == "panel" else "the members"
    counts = (proposal.result or {}).get("counts") or {}
    tally = ", ".join(f"{counts[k]} {k}" for k in ("yes", "no", "abstain") if k in counts)
    quorum = "" if (proposal.result or {}).get("quorum", {}).get("met", True) else "; too few voted"
    return f"{who} in vote #{proposal.pk}" + (f" ({tally}{quorum})" if tally else "")


@register_effect("benefit_claim")
def approve_claim(proposal) -> str:
    claim = benefit_claim_decide(
        claim=proposal.subject, approve=True, reasons=f"Approved by {_deciders(proposal)}."
    )
    return f"Benefit claim #{claim.pk} approved: {claim.currency} {claim.amount:.2f} ({claim.get_status_display().lower()})."


@register_on_fail("benefit_claim")
def reject_claim(proposal) -> str:
    claim = benefit_claim_decide(
        claim=proposal.subject,
        approve=False,
        reasons=f"Not approved by {_deciders(proposal)}." if proposal.outcome else "The vote on it was withdrawn.",
    )
    return f"Benefit claim #{claim.pk} not approved."
