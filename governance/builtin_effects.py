"""What the governance app's own proposals do when decided; registered by GovernanceConfig.ready().

Each effect runs inside the transaction that records the result (see
governance.effects). Other apps register theirs the same way (marketplace:
appeal_rejection, rate_cut_relaunch).
"""

from __future__ import annotations

from coop.models import Membership
from coop.services import membership_admit, membership_reinstate, membership_steward_set, membership_suspend

from .effects import register_effect, register_on_fail
from .models import InterimSuspension, Proposal
from .rules import POLICIES, POLICY_KINDS
from .services.agreements import agreement_ratify, agreement_return_to_draft, contract_terminate
from .services.deliberation import amendment_adopt
from .services.due_process import interim_suspension_end
from .services.policies import policy_set


def register() -> None:
    """Called once from ready(); registering the same function again is a no-op."""
    for key, func in EFFECTS.items():
        register_effect(key)(func)
    for key, func in ON_FAIL.items():
        register_on_fail(key)(func)


def _ratify(proposal: Proposal) -> str:
    agreement = agreement_ratify(agreement=proposal.contract or proposal.dua, proposal=proposal)
    name = f"Contract “{agreement.title}”" if proposal.contract_id else "Data-use agreement"
    return f"{name} v{agreement.version} is {agreement.get_status_display().lower()}."


def _back_to_draft(proposal: Proposal) -> str:
    agreement_return_to_draft(agreement=proposal.contract or proposal.dua, proposal=proposal)
    return f"The {'contract' if proposal.contract_id else 'data-use agreement'} is a draft again."


def _policy_effect(proposal: Proposal) -> str:
    key = POLICY_KINDS.get(proposal.kind) or proposal.payload["key"]
    value = proposal.result.get("value") if proposal.method == "score" else proposal.payload.get("value")
    row = policy_set(key=key, value=value, proposal=proposal, effective_from=proposal.closed_at)
    return f"{POLICIES[key].label} is now {row.value.normalize():f} ({POLICIES[key].unit})."


def _admit(proposal: Proposal) -> str:
    membership = membership_admit(membership=proposal.membership, actor=None, reason=f"Admitted by vote (proposal #{proposal.pk}).")
    return f"{membership.display_name} is admitted."


def _suspend(proposal: Proposal) -> str:
    reason = f"{proposal.payload.get('reason', '').strip()} (decided by vote, proposal #{proposal.pk}; you can appeal)"
    membership = membership_suspend(membership=proposal.membership, actor=None, reason=reason)
    return f"{membership.display_name} is suspended."


def _reinstate(proposal: Proposal) -> str:
    what = "Appeal upheld" if proposal.kind == "appeal" else "Suspension lifted by the members' review"
    membership = membership_reinstate(membership=proposal.membership, actor=None, reason=f"{what} (proposal #{proposal.pk}).")
    for interim in InterimSuspension.objects.filter(membership=membership, status=InterimSuspension.Status.IN_FORCE):
        interim_suspension_end(interim=interim, reinstate=False, reason=f"{what} (proposal #{proposal.pk}).")
    return f"{membership.display_name} is reinstated."


def _keep_suspended(proposal: Proposal) -> str:
    """The members confirmed an interim suspension: it becomes a suspension by vote (which can be appealed)."""
    membership = Membership.objects.get(pk=proposal.membership_id)
    reason = f"Suspended by the members' vote on an interim suspension (proposal #{proposal.pk}; you can appeal)"
    interim = InterimSuspension.objects.filter(review=proposal).first()
    if interim is not None:
        interim_suspension_end(interim=interim, reinstate=False, reason=reason)
    if membership.status == Membership.Status.ACTIVE:  # the interim period ran out before the vote closed
        membership_suspend(membership=membership, actor=None, reason=reason)
    return f"{membership.display_name} stays suspended."


def _lift_interim(proposal: Proposal) -> str:
    interim = InterimSuspension.objects.filter(review=proposal).first()
    if interim is not None:
        interim_suspension_end(
            interim=interim, reinstate=True, reason=f"The members did not confirm the interim suspension (proposal #{proposal.pk})."
        )
    return "The interim suspension is lifted."


def _seat_stewards(proposal: Proposal) -> str:
    elected_ids = [int(key) for key in proposal.result.get("elected", [])]
    outgoing = [int(pk) for pk in proposal.payload.get("outgoing", [])]
    reason = f"Steward election, proposal #{proposal.pk}."
    notes = []
    for membership in Membership.objects.filter(pk__in=[pk for pk in outgoing if pk not in elected_ids], is_steward=True).order_by("pk"):
        membership_steward_set(membership=membership, actor=None, is_steward=False, reason=reason)
        notes.append(f"{membership.display_name} steps down")
    for membership in Membership.objects.filter(pk__in=elected_ids).order_by("pk"):
        if membership.status != Membership.Status.ACTIVE:
            notes.append(f"{membership.display_name} was elected but is no longer active: seat left empty")
            continue
        membership_steward_set(membership=membership, actor=None, is_steward=True, reason=reason)
        notes.append(f"{membership.display_name} is a steward")
    return "; ".join(notes) + "."


def _recall_steward(proposal: Proposal) -> str:
    membership = membership_steward_set(
        membership=proposal.membership, actor=None, is_steward=False, reason=f"Recalled by the members (proposal #{proposal.pk})."
    )
    return f"{membership.display_name} is no longer a steward."


def _terminate_contract(proposal: Proposal) -> str:
    contract = contract_terminate(
        actor=None, contract=proposal.contract, reason=f"{proposal.payload.get('reason', '')} (members' vote, proposal #{proposal.pk})"
    )
    return f"Contract “{contract.title}” is terminated."


def _adopt_amendment(proposal: Proposal) -> str:
    return amendment_adopt(ballot=proposal)


EFFECTS = {
    "contract_ratification": _ratify,
    "dua_ratification": _ratify,
    "pay_floor_change": _policy_effect,
    "coop_fee_change": _policy_effect,
    "policy_change": _policy_effect,
    "member_admission": _admit,
    "suspension": _suspend,
    "interim_suspension_review": _keep_suspended,
    "appeal_suspension": _reinstate,
    "steward_election": _seat_stewards,
    "steward_recall": _recall_steward,
    "contract_termination": _terminate_contract,
    "amendment": _adopt_amendment,
}
ON_FAIL = {
    "contract_ratification": _back_to_draft,
    "dua_ratification": _back_to_draft,
    "interim_suspension_review": _lift_interim,
}
