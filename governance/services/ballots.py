"""Casting votes: one member, one vote, enforced by the database.

Named ballots: the first vote inserts a Vote row (unique per proposal and
member); a later vote, or one that loses the race for the insert to a
concurrent first vote of the same member, becomes a vote change: the row is
updated under a row lock and every version is appended to VoteHistory. Casting
exactly the current vote again changes nothing (the call is idempotent).

Secret ballots: a Participation row (unique per proposal and member) records
that the member voted, and the choice is stored sealed (encrypted, padded, a
random key, no voter, no time) until the ballot closes, when all sealed
ballots are shuffled into SecretBallot in one batch (see
governance.services.secret_ballots). A second vote, concurrent or not, fails
on the participation's unique constraint and the whole transaction (ballot
included) rolls back: secret votes cannot be changed, because nothing links
the member to their ballot. The governance log records only participation.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from coop.errors import ApplicationError, Conflict, Forbidden
from coop.models import Membership, User
from coop.validation import decimal_or_none
from governance.error_codes import GovernanceErrorCode

from .. import selectors
from ..models import (
    Choice,
    Elector,
    Participation,
    Proposal,
    ProposalStatus,
    Threshold,
    Vote,
    VoteHistory,
    VotingMethod,
)
from .audit import log_write
from .notify import publish_to_proposal
from .policies import too_precise
from .secret_ballots import ballot_seal


@dataclass(frozen=True)
class CastReceipt:
    proposal_id: int
    secret: bool
    changed: bool  # an earlier vote of this member was replaced
    vote: Vote | None  # None for secret ballots
    recorded: bool = True  # False when the same vote was cast again (nothing changed)


def _invalid(message: str, field: str, code: str = "invalid_vote") -> ApplicationError:
    return ApplicationError(message, code=code, fields={field: [message]})


def _clean_ballot(proposal: Proposal, *, choice, score, ranking, reason) -> dict:
    """Check a ballot against the proposal's method; returns the fields to store. Raises before anything is written."""
    choice = str(choice or "").strip().lower()
    reason = str(reason or "").strip()
    if len(reason) > 2000:
        raise _invalid("Keep the reason under 2,000 characters.", "reason")
    if proposal.method == VotingMethod.YES_NO:
        allowed = [Choice.YES, Choice.NO, Choice.ABSTAIN] + ([Choice.BLOCK] if proposal.threshold == Threshold.CONSENT else [])
        if choice not in allowed:
            raise _invalid(f"Choose one of: {', '.join(allowed)}.", "choice")
        if choice == Choice.BLOCK and not reason:
            raise _invalid("A block needs a reason: say what would have to change.", "reason", code=GovernanceErrorCode.BLOCK_NEEDS_REASON)
        return {"choice": choice, "score": None, "ranking": [], "reason": reason}
    if choice == Choice.ABSTAIN:
        return {"choice": Choice.ABSTAIN, "score": None, "ranking": [], "reason": reason}
    if proposal.method == VotingMethod.SCORE:
        number = decimal_or_none(score, finite=False)
        if number is None:
            raise _invalid("Give a number (or abstain).", "score")
        if not number.is_finite() or too_precise(number, proposal.score_places):
            raise _invalid(f"Give a number with at most {proposal.score_places} decimal places.", "score")
        if not proposal.score_min <= number <= proposal.score_max:
            raise _invalid(
                f"Give a number between {proposal.score_min.normalize():f} and {proposal.score_max.normalize():f}.", "score"
            )
        return {"choice": Choice.SCORE, "score": number, "ranking": [], "reason": reason}
    keys = [c["key"] for c in proposal.choices]
    if not isinstance(ranking, (list, tuple)) or not ranking:
        raise _invalid("Rank at least one candidate (or abstain).", "ranking")
    ranking = [str(key) for key in ranking]
    if len(set(ranking)) != len(ranking):
        raise _invalid("Rank each candidate at most once.", "ranking")
    unknown = [key for key in ranking if key not in keys]
    if unknown:
        raise _invalid(f"Unknown candidate(s): {', '.join(unknown)}.", "ranking")
    return {"choice": Choice.RANKING, "score": None, "ranking": ranking, "reason": reason}


def _hold_open(proposal_id: int) -> Proposal:
    """Read the proposal under a shared row lock (PostgreSQL FOR SHARE): votes run side by side, closing waits."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f'SELECT 1 FROM "{Proposal._meta.db_table}" WHERE id = %s FOR SHARE', [proposal_id])
    return Proposal.objects.get(pk=proposal_id)


def _check_can_vote(proposal: Proposal, user: User, now: datetime) -> Membership:
    if proposal.status == ProposalStatus.SCHEDULED or now < proposal.opens_at:
        raise Conflict(f"Voting opens {proposal.opens_at:%Y-%m-%d %H:%M} UTC.", code=GovernanceErrorCode.BALLOT_NOT_OPEN)
    if proposal.status != ProposalStatus.OPEN or now >= proposal.closes_at:
        raise Conflict("Voting on this proposal has closed.", code=GovernanceErrorCode.BALLOT_CLOSED)
    membership = Membership.objects.filter(user_id=user.pk).first() if user is not None and user.pk else None
    if membership is None:
        raise Forbidden("Only members of the co-op vote.", code=GovernanceErrorCode.NOT_A_MEMBER)
    if membership.pk in (proposal.conflicted or ()):
        raise Forbidden(
            "You are a party to this case, so you do not vote on it; you can answer in the discussion.",
            code=GovernanceErrorCode.PARTY_TO_THE_CASE,
        )
    if not Elector.objects.filter(proposal=proposal, membership=membership).exists():
        opened = f"{proposal.opened_at:%Y-%m-%d %H:%M} UTC" if proposal.opened_at else "the opening"
        raise Forbidden(
            f"You are not on this vote's electorate: it was fixed at {opened} (members in good standing then"
            f"{', or the drawn panel' if proposal.decided_by == Proposal.DecidedBy.PANEL else ''}).",
            code=GovernanceErrorCode.NOT_ELIGIBLE,
        )
    if membership.status != Membership.Status.ACTIVE:
        raise Forbidden("Only members in good standing can vote.", code=GovernanceErrorCode.NOT_IN_GOOD_STANDING)
    return membership


def ballot_cast(
    *, proposal: Proposal, user: User, choice: str = "", score=None, ranking=None, reason: str = "", now: datetime | None = None
) -> CastReceipt:
    """Cast or change `user`'s vote on an open proposal.

    Holds FOR SHARE on the proposal row for the whole transaction (see
    governance.services.proposal_lifecycle), FOR UPDATE on the member's Vote row when
    changing it. Bad input, closed ballots, members not on the electorate and
    second secret votes raise ApplicationError and write nothing.
    """
    now = now or timezone.now()
    with transaction.atomic():
        proposal = _hold_open(proposal.pk)
        membership = _check_can_vote(proposal, user, now)
        ballot = _clean_ballot(proposal, choice=choice, score=score, ranking=ranking, reason=reason)
        if proposal.secret:
            receipt = _cast_secret(proposal, membership, ballot)
            log_write(
                actor=user,
                action="vote.cast",
                obj=proposal,
                summary=f"{membership.display_name} voted (secret ballot)",
                data={"secret": True},
            )
        else:
            receipt = _cast_named(proposal, membership, ballot, now)
            if receipt.recorded:
                what = "changed their vote" if receipt.changed else "voted"
                # The choice itself is not logged: with hidden results the log would reveal a running tally.
                log_write(
                    actor=user,
                    action="vote.changed" if receipt.changed else "vote.cast",
                    obj=proposal,
                    summary=f"{membership.display_name} {what}",
                    data={"secret": False, "revision": receipt.vote.revision},
                )
        if proposal.results_hidden:
            publish_to_proposal(proposal_id=proposal.pk, event={"kind": "turnout", "proposal": proposal.pk})
        else:
            transaction.on_commit(lambda: _publish_tally(proposal.pk))
    return receipt


def _publish_tally(proposal_id: int) -> None:
    proposal = Proposal.objects.get(pk=proposal_id)
    event = {"kind": "tally", "proposal": proposal_id, "result": selectors.result_for_display(proposal)}
    # Already after commit: publish_to_proposal's on_commit runs the send at once.
    publish_to_proposal(proposal_id=proposal_id, event=event)


def _cast_secret(proposal: Proposal, membership: Membership, ballot: dict) -> CastReceipt:
    already = Conflict("You have already voted in this secret ballot; secret votes cannot be changed.", code=GovernanceErrorCode.ALREADY_VOTED)
    if Participation.objects.filter(proposal=proposal, membership=membership).exists():
        raise already
    try:
        with transaction.atomic():
            Participation.objects.create(proposal=proposal, membership=membership)
    except IntegrityError:  # a concurrent vote of the same member committed first
        raise already from None
    ballot_seal(proposal=proposal, ballot=ballot)  # unreadable until the close shuffles it in with the others
    return CastReceipt(proposal_id=proposal.pk, secret=True, changed=False, vote=None)


def _cast_named(proposal: Proposal, membership: Membership, ballot: dict, now: datetime) -> CastReceipt:
    vote = Vote.objects.select_for_update(of=("self",)).filter(proposal=proposal, membership=membership).order_by("pk").first()
    if vote is None:
        try:
            with transaction.atomic():
                vote = Vote.objects.create(
                    proposal=proposal, membership=membership, cast_at=now, changed_at=now, revision=1, **ballot
                )
        except IntegrityError:
            # The same member's concurrent first vote won the insert: this one becomes a change.
            vote = Vote.objects.select_for_update(of=("self",)).get(proposal=proposal, membership=membership)
        else:
            VoteHistory.objects.create(vote=vote, revision=1, cast_at=now, **ballot)
            return CastReceipt(proposal_id=proposal.pk, secret=False, changed=False, vote=vote)
    current = {"choice": vote.choice, "score": vote.score, "ranking": vote.ranking, "reason": vote.reason}
    if current == ballot:
        return CastReceipt(proposal_id=proposal.pk, secret=False, changed=False, vote=vote, recorded=False)
    for field, value in ballot.items():
        setattr(vote, field, value)
    vote.revision += 1
    vote.changed_at = now
    vote.save(update_fields=["choice", "score", "ranking", "reason", "revision", "changed_at"])
    VoteHistory.objects.create(vote=vote, revision=vote.revision, cast_at=now, **ballot)
    return CastReceipt(proposal_id=proposal.pk, secret=False, changed=True, vote=vote)
