"""Member initiative: any active member drafts a proposal; it goes to ballot once enough members co-sponsor it.

The number of co-sponsors is a policy the members vote on
(`proposal_cosponsors`, founding value 3), fixed on the draft when it is
made. Co-sponsoring locks the proposal row (SELECT FOR UPDATE), so the draft
is scheduled exactly once however many members back it at the same moment;
each member backs it once (unique constraint). After the discussion period
(0 to 14 days, chosen by the author) voting opens like any other proposal.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from coop.error_codes import CoopErrorCode
from coop.errors import ApplicationError, Conflict, Forbidden
from coop.models import Membership, User
from governance.error_codes import GovernanceErrorCode

from .. import selectors
from ..models import Contract, Proposal, ProposalKind, ProposalStatus, Sponsorship
from ..rules import MAX_DISCUSSION, MEMBER_KINDS, POLICIES
from .audit import log_write
from .due_process import suspension_parties
from .notify import notify_users, publish_to_proposal
from .policies import policy_clean_value
from .proposal_lifecycle import amendments_put_to_vote
from .proposal_opening import proposal_open, proposal_url
from .proposals import proposal_create_unchecked

K = ProposalKind


def active_membership(user: User | None, *, action: str) -> Membership:
    membership = selectors.membership_of(user)
    if membership is None or membership.status != Membership.Status.ACTIVE:
        raise Forbidden(f"Only members in good standing can {action}.", code=GovernanceErrorCode.NOT_IN_GOOD_STANDING)
    return membership


def _subject_for(kind: str, *, membership: Membership | None, contract: Contract | None, payload: dict) -> dict:
    """Check what a member's proposal is about; returns the extra arguments for proposal_create_unchecked."""
    if kind == K.SUSPENSION_REVIEW:
        target = Membership.objects.filter(pk=getattr(membership, "pk", None)).first()
        if target is None or target.status != Membership.Status.SUSPENDED:
            raise ApplicationError("Choose a suspended member.", fields={"membership": ["Not a suspended member."]})
        return {"membership": target, "effect_key": "appeal_suspension", "conflicted": suspension_parties(target)}
    if kind == K.STEWARD_RECALL:
        target = Membership.objects.filter(pk=getattr(membership, "pk", None)).first()
        if target is None or not target.is_steward or target.status != Membership.Status.ACTIVE:
            raise ApplicationError("Choose a serving steward.", fields={"membership": ["Not a serving steward."]})
        return {"membership": target, "conflicted": [target.pk]}
    if kind == K.CONTRACT_TERMINATION:
        if contract is None or contract.status != "active":
            raise ApplicationError("Choose an active contract.", fields={"contract": ["Not an active contract."]})
        reason = str(payload.get("reason", "")).strip()
        if len(reason) < 10:
            raise ApplicationError("Say why the contract should end (at least 10 characters).", fields={"reason": ["Too short."]})
        return {"contract": contract, "payload": {"reason": reason}}
    if kind == K.POLICY_CHANGE:
        key = str(payload.get("key", ""))
        if key not in POLICIES:
            raise ApplicationError("Choose a co-op rule to change.", fields={"key": [f"One of: {', '.join(POLICIES)}."]})
        value = policy_clean_value(key=key, value=payload.get("value"))
        return {"payload": {"key": key, "value": str(value)}}
    return {}


def proposal_draft(
    *,
    author: User,
    kind: str,
    title: str,
    body: str = "",
    payload: dict | None = None,
    membership: Membership | None = None,
    contract: Contract | None = None,
    candidates: list[Membership] | None = None,
    seats: int | None = None,
    method: str | None = None,
    threshold: str | None = None,
    discussion_days: int = 0,
    voting_days: int | None = None,
    now: datetime | None = None,
) -> Proposal:
    """An active member puts a proposal forward; it waits for co-sponsors (policy `proposal_cosponsors`).

    A steward drafting one goes through the same path (stewards may also
    open proposals directly with proposal_create). Bad input writes nothing.
    """
    now = now or timezone.now()
    active_membership(author, action="put proposals forward")
    if kind not in MEMBER_KINDS:
        raise ApplicationError(
            "Members may raise: " + ", ".join(K(k).label.lower() for k in MEMBER_KINDS) + ".",
            code=GovernanceErrorCode.KIND_NOT_FOR_MEMBERS,
            fields={"kind": ["Not a kind members raise."]},
        )
    try:
        discussion = timedelta(days=int(discussion_days or 0))
    except (TypeError, ValueError):
        raise ApplicationError("Give the discussion period in whole days.", fields={"discussion_days": ["Not a number."]}) from None
    if not timedelta(0) <= discussion <= MAX_DISCUSSION:
        raise ApplicationError(
            f"The discussion period is 0 to {MAX_DISCUSSION.days} days.", fields={"discussion_days": ["Out of range."]}
        )
    duration = None
    if voting_days not in (None, ""):
        try:
            duration = timedelta(days=int(voting_days))
        except (TypeError, ValueError):
            raise ApplicationError("Give the voting period in whole days.", fields={"voting_days": ["Not a number."]}) from None
    extra = _subject_for(kind, membership=membership, contract=contract, payload=dict(payload or {}))
    required = int(selectors.policy_current("proposal_cosponsors", at=now))
    with transaction.atomic():
        proposal = proposal_create_unchecked(
            creator=author,
            kind=kind,
            title=title,
            body=body,
            payload=extra.pop("payload", payload),
            candidates=candidates,
            seats=seats,
            method=method,
            threshold=threshold,
            duration=duration,
            sponsors_required=max(1, required),
            discussion_period=discussion,
            opens_at=now + discussion,
            now=now,
            **extra,
        )
        log_write(
            actor=author,
            action="proposal.drafted",
            obj=proposal,
            summary=f"{proposal.get_kind_display()} put forward by a member; needs {proposal.sponsors_required} co-sponsors",
            data={"sponsors_required": proposal.sponsors_required, "discussion_days": discussion.days},
        )
    return proposal


def proposal_cosponsor(*, proposal: Proposal, user: User, now: datetime | None = None) -> Proposal:
    """Back a member's draft. The co-sponsor that completes the count schedules it (exactly once).

    Holds SELECT FOR UPDATE on the proposal row. Refused: the author, a
    second backing by the same member, drafts that are no longer drafts.
    """
    now = now or timezone.now()
    with transaction.atomic():
        membership = active_membership(user, action="co-sponsor proposals")
        locked = Proposal.objects.select_for_update(of=("self",)).filter(pk=proposal.pk).order_by("pk").first()
        if locked is None:
            raise ApplicationError("No such proposal.", code=CoopErrorCode.NOT_FOUND)
        if locked.status != ProposalStatus.DRAFT:
            raise Conflict("This proposal is not gathering co-sponsors.", code=GovernanceErrorCode.NOT_A_DRAFT)
        if locked.created_by_id == user.pk:
            raise Conflict("You wrote this proposal; co-sponsors are other members.", code=GovernanceErrorCode.OWN_PROPOSAL)
        if membership.pk in (locked.conflicted or ()):
            raise Conflict("You are a party to this case: you may comment, not sponsor it.", code=GovernanceErrorCode.CONFLICT_OF_INTEREST)
        try:
            with transaction.atomic():
                Sponsorship.objects.create(proposal=locked, membership=membership, created_at=now)
        except IntegrityError:
            raise Conflict("You already co-sponsor this proposal.", code=GovernanceErrorCode.ALREADY_SPONSORED) from None
        count = Sponsorship.objects.filter(proposal=locked).count()
        log_write(
            actor=user,
            action="proposal.cosponsored",
            obj=locked,
            summary=f"{membership.display_name} co-sponsored “{locked.title}” ({count} of {locked.sponsors_required})"[:300],
            data={"count": count, "required": locked.sponsors_required},
        )
        if count >= locked.sponsors_required:
            _schedule(locked, now=now)
        publish_to_proposal(proposal_id=locked.pk, event={"kind": "sponsored", "proposal": locked.pk, "count": count})
    return locked


def _schedule(proposal: Proposal, *, now: datetime) -> None:
    """Enough co-sponsors: the discussion period starts now, then voting opens for `voting_period`."""
    proposal.status = ProposalStatus.SCHEDULED
    proposal.sponsored_at = now
    proposal.opens_at = now + proposal.discussion_period
    proposal.closes_at = proposal.opens_at + proposal.voting_period  # drafts always record it
    try:
        with transaction.atomic():
            proposal.save(update_fields=["status", "sponsored_at", "opens_at", "closes_at"])
    except IntegrityError as exc:
        raise Conflict("A vote on the same subject is already scheduled or open.", code=GovernanceErrorCode.ALREADY_OPEN) from exc
    log_write(
        actor=None,
        action="proposal.scheduled",
        obj=proposal,
        summary=f"“{proposal.title}” has its co-sponsors; voting opens {proposal.opens_at:%Y-%m-%d %H:%M} UTC"[:300],
        data={"opens_at": proposal.opens_at.isoformat(), "closes_at": proposal.closes_at.isoformat()},
    )
    if proposal.created_by_id:
        notify_users(
            users=[proposal.created_by],
            kind="governance.sponsored",
            title=f"Your proposal goes to a vote: {proposal.title}",
            body=f"Voting opens {proposal.opens_at:%Y-%m-%d %H:%M} UTC.",
            url=proposal_url(proposal),
            force=True,
        )
    if proposal.opens_at <= now and not amendments_put_to_vote(proposal=proposal, now=now):
        proposal_open(proposal, now=now)
