"""What the members' decisions on expert work do (registered once from MarketplaceConfig.ready()).

Governance is the lower app: it calls these by effect key when a vote closes, in the closing transaction.
The rules themselves (qualification needed, rate card at publication, accuracy) are direct calls and do
not depend on this module.
"""

from __future__ import annotations

from governance.effects import register_effect

from .accuracy import accuracy_hold_lift
from .models import GoldAccuracyHold
from .qualifications import qualification_grant_by_vote
from .rate_cards import rate_card_apply


@register_effect("qualification_grant")
def grant_qualification(proposal) -> str:
    grant = qualification_grant_by_vote(proposal=proposal)
    return f"{grant.member.display_name} holds “{grant.qualification.name}” ({grant.get_source_display().lower()})."


@register_effect("rate_card_change")
def set_rate_card(proposal) -> str:
    rate = rate_card_apply(proposal=proposal)
    return f"The {rate.card_name} is now {rate.hourly_minimum} {rate.currency}/hour."


@register_effect("appeal_accuracy_hold")
def lift_accuracy_hold(proposal) -> str:
    hold = GoldAccuracyHold.objects.get(pk=proposal.subject_id)
    accuracy_hold_lift(hold=hold, reason=f"Appeal upheld by the members (proposal #{proposal.pk}).")
    return f"The accuracy hold on project {hold.project_id} is lifted; accuracy is counted afresh."
