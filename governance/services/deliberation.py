"""Deliberation: a discussion thread on every proposal, amendments to motions, the outcome statement.

Comments: any member (and the member a case is about, even suspended) may
comment or reply (one level) until the proposal is decided; the author may
edit within COMMENT_EDIT_WINDOW; a steward hides a comment with a logged
reason, never deletes it (the hidden text stays in the database for an
appeal). Amendments: members propose new wording for a motion while it is
not yet open for voting; the motion's author accepts (the text changes) or
declines; those still open when voting is due are put to the members first
(governance.services.proposal_lifecycle opens the motion after they close).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from coop.error_codes import CoopErrorCode
from coop.errors import ApplicationError, Conflict, Forbidden
from coop.models import Membership, User
from governance.error_codes import GovernanceErrorCode

from .. import selectors
from ..models import Amendment, Comment, Proposal, ProposalStatus
from ..rules import AMENDABLE_KINDS
from .audit import log_write
from .notify import notify_users, publish_to_proposal
from .proposals import proposal_url

COMMENT_EDIT_WINDOW = timedelta(minutes=15)
COMMENT_MAX = 10_000
UNDECIDED = (ProposalStatus.DRAFT, ProposalStatus.SCHEDULED, ProposalStatus.OPEN)


def _may_take_part(proposal: Proposal, user: User | None) -> Membership:
    """Members in good standing take part; the member a case is about may answer in it whatever their status."""
    membership = selectors.membership_of(user)
    if membership is None:
        raise Forbidden("Only members of the co-op take part in discussions.", code=GovernanceErrorCode.NOT_A_MEMBER)
    if membership.status != Membership.Status.ACTIVE and membership.pk != proposal.membership_id:
        raise Forbidden("Only members in good standing take part in discussions.", code=GovernanceErrorCode.NOT_IN_GOOD_STANDING)
    return membership


def _clean_body(body: str, *, field: str = "body") -> str:
    body = (body or "").strip()
    if not body:
        raise ApplicationError("Write something first.", code=GovernanceErrorCode.EMPTY_COMMENT, fields={field: ["Required."]})
    if len(body) > COMMENT_MAX:
        raise ApplicationError(f"Keep it under {COMMENT_MAX:,} characters.", code=GovernanceErrorCode.COMMENT_TOO_LONG, fields={field: ["Too long."]})
    return body


@transaction.atomic
def comment_post(
    *, proposal: Proposal, author: User, body: str, parent: Comment | None = None, now: datetime | None = None
) -> Comment:
    """Add a comment (or a reply to a top-level comment) to an undecided proposal."""
    now = now or timezone.now()
    locked = Proposal.objects.select_for_update(of=("self",)).get(pk=proposal.pk)
    membership = _may_take_part(locked, author)
    if locked.status not in UNDECIDED:
        raise Conflict("The discussion closed with the vote.", code=GovernanceErrorCode.DISCUSSION_CLOSED)
    body = _clean_body(body)
    if parent is not None:
        parent = Comment.objects.filter(pk=parent.pk, proposal=locked).first()
        if parent is None:
            raise ApplicationError("Reply to a comment on this proposal.", fields={"parent": ["Not on this proposal."]})
        if parent.parent_id is not None:
            parent = parent.parent  # one level of replies: answer the thread
    comment = Comment.objects.create(proposal=locked, parent=parent, author=author, body=body, created_at=now)
    log_write(
        actor=author,
        action="comment.posted",
        obj=locked,
        summary=f"{membership.display_name} commented on “{locked.title}”"[:300],
        data={"comment": comment.pk, "parent": parent.pk if parent else None},
    )
    publish_to_proposal(proposal_id=locked.pk, event={"kind": "comment", "proposal": locked.pk, "comment": comment.pk})
    return comment


@transaction.atomic
def comment_edit(*, comment: Comment, author: User, body: str, now: datetime | None = None) -> Comment:
    """The author edits their comment within the edit window, while the proposal is undecided and the comment shown."""
    now = now or timezone.now()
    comment = Comment.objects.select_for_update(of=("self",)).select_related("proposal").get(pk=comment.pk)
    if comment.author_id != author.pk:
        raise Forbidden("Only the author can edit a comment.", code=GovernanceErrorCode.NOT_YOUR_COMMENT)
    if comment.hidden_at is not None:
        raise Conflict("A hidden comment cannot be edited.", code=GovernanceErrorCode.COMMENT_HIDDEN)
    if now - comment.created_at > COMMENT_EDIT_WINDOW:
        minutes = int(COMMENT_EDIT_WINDOW.total_seconds() // 60)
        raise Conflict(f"Comments can be edited for {minutes} minutes after posting.", code=GovernanceErrorCode.EDIT_WINDOW_PASSED)
    if comment.proposal.status not in UNDECIDED:
        raise Conflict("The discussion closed with the vote.", code=GovernanceErrorCode.DISCUSSION_CLOSED)
    comment.body = _clean_body(body)
    comment.edited_at = now
    comment.save(update_fields=["body", "edited_at"])
    log_write(actor=author, action="comment.edited", obj=comment.proposal, summary="A comment was edited", data={"comment": comment.pk})
    return comment


@transaction.atomic
def comment_hide(*, comment: Comment, actor: User, reason: str, now: datetime | None = None) -> Comment:
    """A steward hides a comment from the thread, with a reason everyone can read in the log. Nothing is deleted."""
    if actor is None or not actor.is_steward:
        raise Forbidden("Only stewards moderate discussions.", code=CoopErrorCode.STEWARD_REQUIRED)
    reason = (reason or "").strip()
    if len(reason) < 5:
        raise ApplicationError("Say why the comment is hidden.", code=CoopErrorCode.REASON_REQUIRED, fields={"reason": ["Required."]})
    comment = Comment.objects.select_for_update(of=("self",)).select_related("proposal").get(pk=comment.pk)
    if comment.hidden_at is not None:
        raise Conflict("This comment is already hidden.", code=GovernanceErrorCode.ALREADY_HIDDEN)
    comment.hidden_at, comment.hidden_by, comment.hidden_reason = now or timezone.now(), actor, reason
    comment.save(update_fields=["hidden_at", "hidden_by", "hidden_reason"])
    log_write(
        actor=actor,
        action="comment.hidden",
        obj=comment.proposal,
        summary=f"A comment on “{comment.proposal.title}” was hidden: {reason}"[:300],
        data={"comment": comment.pk, "reason": reason},
    )
    notify_users(
        users=[comment.author],
        kind="governance.comment_hidden",
        title="A steward hid your comment",
        body=f"Reason: {reason}",
        url=proposal_url(comment.proposal),
        force=True,
    )
    return comment


# --- Amendments ------------------------------------------------------------------------------------


@transaction.atomic
def amendment_propose(*, proposal: Proposal, author: User, body: str, rationale: str = "", now: datetime | None = None) -> Amendment:
    """A member proposes new wording for a motion that is not yet open for voting."""
    now = now or timezone.now()
    locked = Proposal.objects.select_for_update(of=("self",)).get(pk=proposal.pk)
    membership = _may_take_part(locked, author)
    if membership.status != Membership.Status.ACTIVE:
        raise Forbidden("Only members in good standing propose amendments.", code=GovernanceErrorCode.NOT_IN_GOOD_STANDING)
    if locked.kind not in AMENDABLE_KINDS:
        raise Conflict("Only motions and bylaw amendments can be amended.", code=GovernanceErrorCode.NOT_AMENDABLE)
    if locked.status not in (ProposalStatus.DRAFT, ProposalStatus.SCHEDULED) or locked.opens_at <= now:
        raise Conflict("Amendments are proposed before voting opens.", code=GovernanceErrorCode.VOTING_OPEN)
    if locked.created_by_id == author.pk:
        raise Conflict("You wrote the motion: edit it by accepting an amendment, or withdraw and redraft.", code=GovernanceErrorCode.OWN_PROPOSAL)
    body = _clean_body(body)
    if body == locked.body:
        raise ApplicationError("The amendment must change the text.", fields={"body": ["Same as the motion."]})
    amendment = Amendment.objects.create(
        proposal=locked, author=author, body=body, rationale=(rationale or "").strip()[:COMMENT_MAX], created_at=now
    )
    log_write(
        actor=author,
        action="amendment.proposed",
        obj=locked,
        summary=f"{membership.display_name} proposed an amendment to “{locked.title}”"[:300],
        data={"amendment": amendment.pk},
    )
    if locked.created_by_id:
        notify_users(
            users=[locked.created_by],
            kind="governance.amendment",
            title=f"An amendment to your proposal: {locked.title}",
            body="Accept it, or it goes to the members before your motion.",
            url=proposal_url(locked),
        )
    return amendment


@transaction.atomic
def amendment_decide(*, amendment: Amendment, actor: User, accept: bool, now: datetime | None = None) -> Amendment:
    """The motion's author accepts (the motion's text becomes the amendment's) or declines an amendment.

    A declined amendment is still put to the members before the motion, unless
    its own author withdraws it: the author of a motion cannot silence a change.
    """
    now = now or timezone.now()
    amendment = Amendment.objects.select_for_update(of=("self",)).get(pk=amendment.pk)
    motion = Proposal.objects.select_for_update(of=("self",)).get(pk=amendment.proposal_id)
    if amendment.author_id == actor.pk and not accept:
        amendment.status, amendment.decided_at = Amendment.Status.WITHDRAWN, now
        amendment.save(update_fields=["status", "decided_at"])
        log_write(actor=actor, action="amendment.withdrawn", obj=motion, summary="An amendment was withdrawn by its author")
        return amendment
    if motion.created_by_id != actor.pk:
        raise Forbidden("Only the motion's author accepts or declines amendments.", code=GovernanceErrorCode.NOT_YOUR_PROPOSAL)
    if amendment.status != Amendment.Status.PROPOSED:
        raise Conflict("This amendment is already decided.", code=GovernanceErrorCode.ALREADY_DECIDED)
    if motion.status not in (ProposalStatus.DRAFT, ProposalStatus.SCHEDULED) or motion.opens_at <= now:
        raise Conflict("Voting has opened; the text can no longer change.", code=GovernanceErrorCode.VOTING_OPEN)
    if accept:
        motion.body = amendment.body
        motion.save(update_fields=["body"])
        amendment.status = Amendment.Status.ACCEPTED
    else:
        amendment.status = Amendment.Status.DECLINED
    amendment.decided_at = now
    amendment.save(update_fields=["status", "decided_at"])
    log_write(
        actor=actor,
        action="amendment.accepted" if accept else "amendment.declined",
        obj=motion,
        summary=f"Amendment {amendment.pk} {'accepted into' if accept else 'declined for'} “{motion.title}”"[:300],
        data={"amendment": amendment.pk},
    )
    return amendment


def amendment_adopt(*, ballot: Proposal) -> str:
    """Effect of a passed amendment ballot: the motion's text becomes the amendment's (the motion has not opened)."""
    amendment = Amendment.objects.select_related("proposal").get(ballot=ballot)
    motion = Proposal.objects.select_for_update(of=("self",)).get(pk=amendment.proposal_id)
    if motion.status not in (ProposalStatus.DRAFT, ProposalStatus.SCHEDULED):
        raise Conflict("The motion is no longer waiting for its amendments.", code=GovernanceErrorCode.MOTION_MOVED_ON)
    motion.body = amendment.body
    motion.save(update_fields=["body"])
    log_write(actor=None, action="amendment.adopted", obj=motion, summary=f"Amendment {amendment.pk} adopted by vote")
    return f"The motion “{motion.title}” now reads as amended."


# --- Outcome statement -------------------------------------------------------------------------------


@transaction.atomic
def outcome_statement_set(*, proposal: Proposal, actor: User, statement: str, now: datetime | None = None) -> Proposal:
    """Record what was decided and what happens next (Loomio's outcome), by the author or a steward, once closed."""
    locked = Proposal.objects.select_for_update(of=("self",)).get(pk=proposal.pk)
    if locked.status != ProposalStatus.CLOSED:
        raise Conflict("An outcome is recorded once the vote has closed.", code=GovernanceErrorCode.NOT_CLOSED)
    if not (actor.is_steward or (locked.created_by_id == actor.pk and actor.is_member)):
        raise Forbidden("The author or a steward records the outcome.", code=GovernanceErrorCode.NOT_YOUR_PROPOSAL)
    statement = _clean_body(statement, field="statement")
    locked.outcome_statement, locked.outcome_statement_at = statement, now or timezone.now()
    locked.save(update_fields=["outcome_statement", "outcome_statement_at"])
    log_write(
        actor=actor,
        action="proposal.outcome_statement",
        obj=locked,
        summary=f"Outcome recorded for “{locked.title}”"[:300],
        data={"statement": statement[:2000]},
    )
    return locked
