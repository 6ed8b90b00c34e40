"""Proposals after creation: opened and closed on schedule (with amendments put to the vote first), or withdrawn.

See governance/services/proposals.py for how a proposal is made and the rules it carries.

Lock protocol (PostgreSQL): ballot_cast holds FOR SHARE on the proposal row
while it writes a vote, so many votes go in at once; proposal_close takes FOR
UPDATE (skip locked), so it never tallies while a vote is half-written, and
every vote that commits after the close sees status "closed" and is refused.
On SQLite, transactions are IMMEDIATE and serialise writers anyway.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from coop.error_codes import CoopErrorCode
from coop.errors import ApplicationError, Conflict, Forbidden
from coop.models import User
from governance.error_codes import GovernanceErrorCode

from .. import effects, selectors
from ..models import Amendment, Elector, Outcome, Proposal, ProposalKind, ProposalStatus
from .audit import log_write
from .notify import notify_users, publish_to_proposal
from .proposal_opening import proposal_open, proposal_url
from .proposals import proposal_create_unchecked
from .secret_ballots import ballots_unseal

K = ProposalKind


def proposals_open_due(*, now: datetime | None = None) -> int:
    """Open scheduled proposals whose time has come. Idempotent; safe with several workers (skip locked)."""
    now = now or timezone.now()
    opened = 0
    for pk in (
        Proposal.objects.filter(status=ProposalStatus.SCHEDULED, opens_at__lte=now).order_by("pk").values_list("pk", flat=True)
    ):
        with transaction.atomic():
            proposal = (
                Proposal.objects.select_for_update(skip_locked=True, of=("self",))
                .filter(pk=pk, status=ProposalStatus.SCHEDULED)
                .order_by("pk")
                .first()
            )
            if proposal is None:
                continue
            if amendments_put_to_vote(proposal=proposal, now=now):
                continue  # the motion opens once the members have decided its amendments
            proposal_open(proposal, now=now)
            opened += 1
    return opened


def amendments_put_to_vote(*, proposal: Proposal, now: datetime) -> bool:
    """Open a yes/no ballot for each undecided amendment of `proposal`; postpone the motion until they close.

    Returns True when the motion must wait. Call with the motion's row locked.
    """
    pending = list(
        Amendment.objects.select_for_update(of=("self",))
        .filter(proposal=proposal, status__in=[Amendment.Status.PROPOSED, Amendment.Status.DECLINED])
        .order_by("pk")
    )
    if not pending:
        return False
    last_close = now
    for amendment in pending:
        ballot = proposal_create_unchecked(
            creator=amendment.author,
            kind=ProposalKind.AMENDMENT,
            title=f"Amendment to “{proposal.title}”"[:200],
            body=amendment.body + (f"\n\nWhy: {amendment.rationale}" if amendment.rationale else ""),
            payload={"amendment": amendment.pk, "motion": proposal.pk},
            duration=timedelta(days=2),
            amends=proposal,
            conflicted=proposal.conflicted,
            now=now,
        )
        amendment.status, amendment.ballot, amendment.decided_at = Amendment.Status.PUT_TO_VOTE, ballot, now
        amendment.save(update_fields=["status", "ballot", "decided_at"])
        last_close = max(last_close, ballot.closes_at)
    period = proposal.voting_period or (proposal.closes_at - proposal.opens_at)
    proposal.opens_at = last_close + timedelta(minutes=1)
    proposal.closes_at = proposal.opens_at + period
    proposal.save(update_fields=["opens_at", "closes_at"])
    log_write(
        actor=None,
        action="amendment.balloted",
        obj=proposal,
        summary=f"{len(pending)} amendment(s) to “{proposal.title}” go to the members first; the motion opens "
        f"{proposal.opens_at:%Y-%m-%d %H:%M} UTC"[:300],
        data={"amendments": [a.pk for a in pending]},
    )
    return True



def proposal_close(*, proposal: Proposal, now: datetime | None = None) -> Proposal | None:
    """Tally a due proposal and apply its effect, in one transaction. Idempotent.

    Takes SELECT FOR UPDATE (skip locked) on the proposal row: returns None
    when another closer or a vote in flight holds it (the next run retries),
    the proposal unchanged when it is already closed.
    """
    now = now or timezone.now()
    with transaction.atomic():
        locked = Proposal.objects.select_for_update(skip_locked=True, of=("self",)).filter(pk=proposal.pk).order_by("pk").first()
        if locked is None or locked.status != ProposalStatus.OPEN:
            return locked
        if now < locked.closes_at:
            raise Conflict("This vote is still open.", code=GovernanceErrorCode.NOT_DUE)
        if locked.secret:
            ballots_unseal(proposal=locked)  # the sealed ballots, shuffled into the count
        result = selectors.proposal_tally(locked)
        locked.status = ProposalStatus.CLOSED
        locked.closed_at = now
        locked.outcome = Outcome.PASSED if result["passed"] else Outcome.FAILED
        locked.quorum_reached = result["quorum"]["met"]
        locked.result = result
        locked.save(update_fields=["status", "closed_at", "outcome", "quorum_reached", "result"])
        # The effect runs in this transaction, after the result is written (in a savepoint: see effects.py).
        locked.effect_status, locked.effect_detail = effects.apply_outcome(locked)
        locked.save(update_fields=["effect_status", "effect_detail"])
        locked.refresh_from_db(fields=["result"])  # the stored JSON, as readers will see it
        verdict = locked.get_outcome_display().lower() + ("" if locked.quorum_reached else " (quorum not reached)")
        log_write(
            actor=None,
            action="proposal.closed",
            obj=locked,
            summary=f"“{locked.title}” {verdict}; effect: {locked.get_effect_status_display().lower()}",
            data={
                "outcome": locked.outcome,
                "quorum": locked.result.get("quorum"),
                "effect_status": locked.effect_status,
                "effect_detail": locked.effect_detail,
            },
        )
        voters = User.objects.filter(membership__pk__in=Elector.objects.filter(proposal=locked).values("membership_id"))
        notify_users(
            users=voters, kind="governance.closed", title=f"Vote closed: {locked.title} — {verdict}", url=proposal_url(locked)
        )
        concerned = {locked.membership.user} if locked.membership_id else set()
        if locked.kind == K.APPEAL and locked.created_by_id:
            concerned.add(locked.created_by)  # the appellant, also for appeals of rejected work
        if concerned and locked.kind in (K.SUSPENSION, K.APPEAL, K.MEMBER_ADMISSION):
            # The member concerned always hears the result, whatever their standing or preferences.
            notify_users(
                users=sorted(concerned, key=lambda user: user.pk),
                kind="governance.closed",
                title=f"Decision: {locked.title} — {verdict}",
                body=locked.effect_detail,
                url=proposal_url(locked),
                force=True,
            )
        publish_to_proposal(proposal_id=locked.pk, event={"kind": "closed", "proposal": locked.pk, "outcome": locked.outcome})
    return locked


def proposals_close_due(*, now: datetime | None = None) -> int:
    """Close every open proposal past its closing time (each in its own transaction). Idempotent."""
    now = now or timezone.now()
    closed = 0
    for pk in Proposal.objects.filter(status=ProposalStatus.OPEN, closes_at__lte=now).order_by("pk").values_list("pk", flat=True):
        proposal = proposal_close(proposal=Proposal(pk=pk), now=now)
        if proposal is not None and proposal.closed_at == now:
            closed += 1
    return closed


@transaction.atomic
def proposal_withdraw(*, actor: User | None, proposal: Proposal, reason: str, now: datetime | None = None) -> Proposal:
    """Withdraw a proposal (reason required); the kind's on-fail follow-up runs.

    A steward may withdraw any proposal that is not decided yet; the author of
    a member's proposal may withdraw it until voting opens (never once members
    are voting on it).
    """
    now = now or timezone.now()
    reason = (reason or "").strip()
    if not reason:
        raise ApplicationError("Say why the proposal is withdrawn.", code=CoopErrorCode.REASON_REQUIRED, fields={"reason": ["Required."]})
    locked = Proposal.objects.select_for_update(of=("self",)).get(pk=proposal.pk)
    is_author = actor is not None and locked.sponsors_required and locked.created_by_id == actor.pk
    if actor is not None and not actor.is_steward and not is_author:
        raise Forbidden("Only the author or a steward can withdraw this proposal.", code=GovernanceErrorCode.NOT_YOUR_PROPOSAL)
    if locked.status not in (ProposalStatus.DRAFT, ProposalStatus.SCHEDULED, ProposalStatus.OPEN):
        raise Conflict("Only a proposal that is not decided yet can be withdrawn.", code=GovernanceErrorCode.NOT_OPEN)
    if locked.status == ProposalStatus.OPEN and not (actor is None or actor.is_steward):
        raise Conflict("Voting has opened: the members decide it now.", code=GovernanceErrorCode.VOTING_OPEN)
    if locked.secret:
        ballots_unseal(proposal=locked)  # nothing stays sealed (or linkable) once voting has stopped
    locked.status = ProposalStatus.WITHDRAWN
    locked.closed_at = now
    locked.withdrawn_reason = reason
    locked.effect_status, locked.effect_detail = effects.apply_outcome(locked)
    locked.save(update_fields=["status", "closed_at", "withdrawn_reason", "effect_status", "effect_detail"])
    log_write(
        actor=actor,
        action="proposal.withdrawn",
        obj=locked,
        summary=f"“{locked.title}” withdrawn: {reason}"[:300],
        data={"reason": reason},
    )
    publish_to_proposal(proposal_id=locked.pk, event={"kind": "closed", "proposal": locked.pk, "outcome": "withdrawn"})
    return locked
