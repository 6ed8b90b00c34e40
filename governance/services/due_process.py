"""Due process: no single person suspends a member; every suspension and rejection can be appealed.

A suspension is decided by the members (suspension_propose) or, in a listed
emergency (fraud, harassment, safety), imposed for at most
`interim_suspension_days` (policy, founding 7) by two stewards — one asks,
another confirms (interim_suspension_request / _confirm) — which opens a
review vote at once; without a vote to suspend the member is reinstated when
the interim period ends. Conflicts of interest: the member concerned, the
stewards who acted, the reviewer whose rejection is appealed and the
appellant are kept off the electorate (and any panel) of their own case;
they may read it and answer in its discussion.

Appeals are decided within a deadline (setting GOVERNANCE_APPEAL_DAYS, default
7) either by all members in good standing (GOVERNANCE_APPEAL_MODE="proposal",
the default) or by a panel of randomly drawn active members
(GOVERNANCE_APPEAL_MODE="panel", GOVERNANCE_APPEAL_PANEL_SIZE members, default
5) that excludes the appellant and everyone involved in the decision. The panel
decides by simple majority of yes + no with more than half of it voting. An
appeal that passes applies the effect "appeal_<type>": "appeal_suspension"
reinstates the member (built in); "appeal_rejection" is registered by the
marketplace (accept and pay the answer).
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.db import IntegrityError, models, transaction
from django.utils import timezone

from coop.error_codes import CoopErrorCode
from coop.errors import ApplicationError, Conflict, Forbidden
from coop.models import Membership, MembershipEvent, User
from coop.services import membership_reinstate, membership_suspend
from coop.validation import require_steward
from governance.error_codes import GovernanceErrorCode

from .. import selectors
from ..models import InterimSuspension, Proposal, ProposalKind
from ..rules import KIND_RULES, PANEL_QUORUM_PCT, appeal_duration, appeal_mode, panel_size
from .audit import log_write
from .notify import notify_users
from .proposals import proposal_create_unchecked, proposal_url

K = ProposalKind


def suspension_propose(
    *, actor: User | None, membership: Membership, reason: str, evidence: str, now: datetime | None = None, **rules
) -> Proposal:
    """A steward asks the members to suspend an active member, with a written reason and the evidence.

    The member is told at once (reason and evidence included) and may vote and
    answer; if the vote passes they are suspended and can appeal.
    """
    if actor is not None and not actor.is_steward:
        raise Forbidden("Only stewards can propose a suspension.", code=CoopErrorCode.STEWARD_REQUIRED)
    membership = Membership.objects.select_related("user").filter(pk=getattr(membership, "pk", None)).first()
    if membership is None or membership.status != Membership.Status.ACTIVE:
        raise ApplicationError("Only an active member can be suspended.", fields={"membership": ["Not an active member."]})
    reason, evidence = (reason or "").strip(), (evidence or "").strip()
    errors = {}
    if len(reason) < 10:
        errors["reason"] = ["State the reason (at least 10 characters)."]
    if len(evidence) < 10:
        errors["evidence"] = ["Describe the evidence (at least 10 characters)."]
    if errors:
        raise ApplicationError("A suspension needs a reason and evidence.", code=GovernanceErrorCode.REASON_AND_EVIDENCE_REQUIRED, fields=errors)
    parties = {membership.pk} | set(Membership.objects.filter(user_id=getattr(actor, "pk", None)).values_list("pk", flat=True))
    proposal = proposal_create_unchecked(
        creator=actor,
        kind=K.SUSPENSION,
        title=f"Suspend {membership.display_name}?",
        body=f"Reason: {reason}\n\nEvidence:\n{evidence}",
        payload={"reason": reason, "evidence": evidence},
        membership=membership,
        conflicted=parties,
        now=now,
        **{k: v for k, v in rules.items() if v is not None},
    )
    notify_users(
        users=[membership.user],
        kind="governance.suspension_proposed",
        title="The members are voting on suspending you",
        body=f"Reason: {reason}\nEvidence: {evidence}\nYou can read the proposal and answer in its discussion "
        "(the parties to a case do not vote on it). If you are suspended you can appeal.",
        url=proposal_url(proposal),
        force=True,
    )
    return proposal


def suspension_parties(membership: Membership) -> list[int]:
    """Memberships that acted in `membership`'s suspension (and the member): kept off the electorate of its review."""
    acted = set(
        Proposal.objects.filter(kind=K.SUSPENSION, membership=membership).exclude(created_by=None).values_list("created_by_id", flat=True)
    )
    for interim in InterimSuspension.objects.filter(membership=membership).values("requested_by_id", "confirmed_by_id"):
        acted.update(pk for pk in interim.values() if pk)
    actor_ids = membership.events.filter(to_status=Membership.Status.SUSPENDED).exclude(actor=None).values_list("actor_id", flat=True)
    acted.update(actor_ids)
    return sorted({membership.pk, *Membership.objects.filter(user_id__in=acted).values_list("pk", flat=True)})


# --- Interim suspensions (two stewards, listed emergencies, reviewed by the members) --------------------


def _require_steward(actor: User | None) -> None:
    require_steward(actor, "Only stewards ask for an interim suspension.")  # never the co-op itself: a person asks


@transaction.atomic
def interim_suspension_request(
    *, actor: User, membership: Membership, ground: str, evidence: str, now: datetime | None = None
) -> InterimSuspension:
    """One steward asks for an emergency suspension; nothing happens to the member until a second steward confirms."""
    _require_steward(actor)
    now = now or timezone.now()
    membership = Membership.objects.select_for_update(of=("self",)).filter(pk=getattr(membership, "pk", None)).first()
    if membership is None or membership.status != Membership.Status.ACTIVE:
        raise ApplicationError("Only an active member can be suspended.", fields={"membership": ["Not an active member."]})
    if membership.user_id == actor.pk:
        raise Forbidden("Stewards cannot suspend themselves.", code=GovernanceErrorCode.SELF_SUSPENSION)
    if ground not in InterimSuspension.Ground.values:
        raise ApplicationError(
            "An interim suspension is only for: " + ", ".join(InterimSuspension.Ground.values) + ".",
            code=GovernanceErrorCode.NOT_AN_EMERGENCY,
            fields={"ground": ["Choose fraud, harassment or safety."]},
        )
    evidence = (evidence or "").strip()
    if len(evidence) < 20:
        raise ApplicationError("Describe the evidence (at least 20 characters).", fields={"evidence": ["Too short."]})
    try:
        with transaction.atomic():
            interim = InterimSuspension.objects.create(
                membership=membership, ground=ground, evidence=evidence, requested_by=actor, created_at=now
            )
    except IntegrityError:
        raise Conflict("An interim suspension of this member is already asked for or in force.", code=GovernanceErrorCode.ALREADY_REQUESTED) from None
    log_write(
        actor=actor,
        action="interim_suspension.requested",
        obj=interim,
        summary=f"Interim suspension of {membership.display_name} asked for ({interim.get_ground_display()}); "
        "a second steward must confirm"[:300],
        data={"ground": ground},
    )
    stewards = User.objects.filter(membership__is_steward=True, membership__status=Membership.Status.ACTIVE).exclude(
        pk__in=[actor.pk, membership.user_id]
    )
    notify_users(
        users=stewards,
        kind="governance.interim_requested",
        title=f"A second steward is needed: interim suspension of {membership.display_name}",
        body=f"Ground: {interim.get_ground_display()}. Evidence: {evidence[:300]}",
        url=f"/stewards/members/{membership.pk}/",
        force=True,
    )
    return interim


@transaction.atomic
def interim_suspension_confirm(*, actor: User, interim: InterimSuspension, now: datetime | None = None) -> InterimSuspension:
    """A second steward confirms: the member is suspended for at most `interim_suspension_days` and a review vote opens."""
    _require_steward(actor)
    now = now or timezone.now()
    interim = InterimSuspension.objects.select_for_update(of=("self",)).get(pk=interim.pk)
    if interim.status != InterimSuspension.Status.REQUESTED:
        raise Conflict("This interim suspension is not waiting for confirmation.", code=GovernanceErrorCode.NOT_REQUESTED)
    if interim.requested_by_id == actor.pk:
        raise Forbidden("A second steward must confirm: you asked for it.", code=GovernanceErrorCode.SECOND_STEWARD_REQUIRED)
    membership = Membership.objects.select_related("user").get(pk=interim.membership_id)
    if membership.user_id == actor.pk:
        raise Forbidden("You cannot confirm your own suspension.", code=GovernanceErrorCode.SELF_SUSPENSION)
    days = int(selectors.policy_current("interim_suspension_days"))
    interim.confirmed_by, interim.status = actor, InterimSuspension.Status.IN_FORCE
    interim.starts_at, interim.ends_at = now, now + timedelta(days=days)
    interim.save(update_fields=["confirmed_by", "status", "starts_at", "ends_at"])
    reason = (
        f"Interim suspension ({interim.get_ground_display()}) by two stewards until {interim.ends_at:%Y-%m-%d %H:%M} UTC; "
        "the members are reviewing it"
    )
    membership_suspend(membership=membership, actor=None, reason=reason)
    review = (
        Proposal.objects.filter(kind=K.SUSPENSION, membership=membership, status__in=["scheduled", "open"]).order_by("pk").first()
    )
    if review is None:
        rule = KIND_RULES[K.SUSPENSION]
        review = proposal_create_unchecked(
            creator=None,
            kind=K.SUSPENSION,
            effect_key="interim_suspension_review",
            title=f"Keep {membership.display_name} suspended?",
            body=f"Two stewards suspended {membership.display_name} in an emergency "
            f"({interim.get_ground_display()}).\n\nEvidence:\n{interim.evidence}\n\n"
            f"If this vote does not pass, {membership.display_name} is reinstated when the interim period ends.",
            payload={"reason": interim.get_ground_display(), "evidence": interim.evidence, "interim": interim.pk},
            membership=membership,
            duration=min(max(timedelta(days=days), rule.min_duration), rule.max_duration),
            conflicted=suspension_parties(membership),
            now=now,
        )
    interim.review = review
    interim.save(update_fields=["review"])
    log_write(
        actor=actor,
        action="interim_suspension.confirmed",
        obj=interim,
        summary=f"Interim suspension of {membership.display_name} confirmed by a second steward; review vote #{review.pk}"[:300],
        data={"ends_at": interim.ends_at.isoformat(), "review": review.pk},
    )
    notify_users(
        users=[membership.user],
        kind="governance.interim_suspension",
        title="You are suspended for now, and the members are reviewing it",
        body=f"Ground: {interim.get_ground_display()}.\nEvidence: {interim.evidence}\n"
        f"It ends by {interim.ends_at:%Y-%m-%d %H:%M} UTC unless the members vote to suspend you. "
        "You can read the case and answer in its discussion.",
        url=proposal_url(review),
        force=True,
    )
    return interim


@transaction.atomic
def interim_suspension_cancel(*, actor: User, interim: InterimSuspension, reason: str) -> InterimSuspension:
    """Any steward cancels a request that no second steward has confirmed."""
    _require_steward(actor)
    interim = InterimSuspension.objects.select_for_update(of=("self",)).get(pk=interim.pk)
    if interim.status != InterimSuspension.Status.REQUESTED:
        raise Conflict("Only an unconfirmed request can be cancelled.", code=GovernanceErrorCode.NOT_REQUESTED)
    interim.status, interim.ended_at, interim.end_reason = InterimSuspension.Status.CANCELLED, timezone.now(), (reason or "")[:2000]
    interim.save(update_fields=["status", "ended_at", "end_reason"])
    log_write(actor=actor, action="interim_suspension.cancelled", obj=interim, summary="Interim suspension request cancelled")
    return interim


def interim_suspension_end(*, interim: InterimSuspension, reinstate: bool, reason: str, now: datetime | None = None) -> None:
    """End an interim suspension in force (call inside a transaction); reinstate the member unless the members suspended them."""
    now = now or timezone.now()
    interim = InterimSuspension.objects.select_for_update(of=("self",)).get(pk=interim.pk)
    if interim.status != InterimSuspension.Status.IN_FORCE:
        return
    interim.status, interim.ended_at, interim.end_reason = InterimSuspension.Status.ENDED, now, reason
    interim.save(update_fields=["status", "ended_at", "end_reason"])
    membership = Membership.objects.get(pk=interim.membership_id)
    if reinstate and membership.status == Membership.Status.SUSPENDED:
        membership_reinstate(membership=membership, actor=None, reason=reason)
    log_write(actor=None, action="interim_suspension.ended", obj=interim, summary=reason[:300], data={"reinstated": reinstate})


def interim_suspensions_expire_due(*, now: datetime | None = None) -> int:
    """Reinstate members whose interim suspension ran out without a vote to suspend them. Idempotent (scheduler)."""
    now = now or timezone.now()
    ended = 0
    for pk in InterimSuspension.objects.filter(status=InterimSuspension.Status.IN_FORCE, ends_at__lte=now).values_list("pk", flat=True):
        with transaction.atomic():
            interim = InterimSuspension.objects.get(pk=pk)
            voted_to_suspend = interim.review_id and Proposal.objects.filter(pk=interim.review_id, outcome="passed").exists()
            interim_suspension_end(
                interim=interim,
                reinstate=not voted_to_suspend,
                reason="The interim suspension ended"
                + (": the members voted to suspend." if voted_to_suspend else " without a vote to suspend; reinstated."),
                now=now,
            )
            ended += 1
    return ended


def panel_draw(*, size: int, exclude: Iterable[int]) -> list[Membership]:
    """Draw `size` active members at random (OS randomness), leaving out the memberships in `exclude`."""
    pool = list(Membership.objects.filter(status=Membership.Status.ACTIVE).exclude(pk__in=set(exclude)).order_by("pk"))
    return secrets.SystemRandom().sample(pool, k=min(size, len(pool)))


def _latest_suspension(membership: Membership) -> MembershipEvent | None:
    return membership.events.filter(to_status=Membership.Status.SUSPENDED).order_by("-created_at", "-id").first()


def appeal_file(
    *,
    member: User,
    subject: models.Model,
    reason: str,
    appeal_type: str | None = None,
    payload: dict | None = None,
    involved: Iterable[User] = (),
    now: datetime | None = None,
) -> Proposal:
    """A member appeals a decision about them: their suspension (subject = their Membership) or anything else.

    For other subjects (e.g. a rejected marketplace answer) `appeal_type`
    defaults to "rejection" and the caller vouches that the subject concerns
    `member`; `payload` adds what the effect needs, `involved` lists people
    kept off a panel (e.g. the reviewer). One appeal per decision.
    """
    now = now or timezone.now()
    membership = Membership.objects.filter(user_id=member.pk).first()
    if membership is None:
        raise Forbidden("Only members of the co-op can appeal here.", code=GovernanceErrorCode.NOT_A_MEMBER)
    reason = (reason or "").strip()
    if len(reason) < 10:
        raise ApplicationError(
            "Explain why the decision should change (at least 10 characters).",
            code=CoopErrorCode.REASON_REQUIRED,
            fields={"reason": ["Too short."]},
        )
    excluded = {membership.pk}
    excluded.update(
        m for m in Membership.objects.filter(user__in=[u.pk for u in involved if u is not None]).values_list("pk", flat=True)
    )
    earlier = Proposal.objects.filter(kind=K.APPEAL, status="closed")
    if isinstance(subject, Membership):
        appeal_type = "suspension"
        subject = Membership.objects.get(pk=subject.pk)  # the caller's copy may predate the suspension
        if subject.pk != membership.pk:
            raise Forbidden("You can only appeal your own suspension.", code=GovernanceErrorCode.NOT_YOUR_DECISION)
        if subject.status != Membership.Status.SUSPENDED:
            raise Conflict("Your membership is not suspended.", code=GovernanceErrorCode.NOT_SUSPENDED)
        excluded.update(suspension_parties(subject))
        suspension = _latest_suspension(subject)
        if suspension is not None:
            if suspension.actor_id:
                excluded.update(Membership.objects.filter(user_id=suspension.actor_id).values_list("pk", flat=True))
            if earlier.filter(membership=subject, created_at__gte=suspension.created_at).exists():
                raise Conflict("This suspension was already appealed and decided.", code=GovernanceErrorCode.ALREADY_APPEALED)
        for proposer in Proposal.objects.filter(kind=K.SUSPENSION, membership=subject).values_list("created_by_id", flat=True):
            excluded.update(Membership.objects.filter(user_id=proposer).values_list("pk", flat=True))
        about, generic = subject, None
        what = "suspension"
    else:
        appeal_type = appeal_type or "rejection"
        if not re.fullmatch(r"[a-z][a-z_]{1,30}", appeal_type) or appeal_type == "suspension":
            raise ApplicationError("Unknown appeal type.", fields={"appeal_type": ["Invalid."]})
        if subject is None or subject.pk is None:
            raise ApplicationError("Say which decision you appeal.", fields={"subject": ["Required."]})
        from django.contrib.contenttypes.models import ContentType

        if earlier.filter(subject_type=ContentType.objects.get_for_model(subject), subject_id=str(subject.pk)).exists():
            raise Conflict("This decision was already appealed and decided.", code=GovernanceErrorCode.ALREADY_APPEALED)
        about, generic = None, subject
        what = f"{appeal_type} of {subject._meta.verbose_name} #{subject.pk}"
    rule = KIND_RULES[K.APPEAL]
    duration = min(max(appeal_duration(), rule.min_duration), rule.max_duration)
    panel, decided_by, quorum = None, Proposal.DecidedBy.MEMBERS, None
    if appeal_mode() == "panel":
        panel = panel_draw(size=panel_size(), exclude=excluded)
        if panel:
            decided_by, quorum = Proposal.DecidedBy.PANEL, PANEL_QUORUM_PCT
        else:
            panel = None  # nobody left to draw: all members in good standing decide
    data = {
        "appeal_type": appeal_type,
        "reason": reason,
        "subject": f"{subject._meta.label_lower}#{subject.pk}",
        "subject_repr": str(subject)[:200],
        **(payload or {}),
    }
    proposal = proposal_create_unchecked(
        creator=member,
        kind=K.APPEAL,
        effect_key=f"appeal_{appeal_type}",
        title=f"Appeal by {membership.display_name}: {what}"[:200],
        body=reason,
        payload=data,
        membership=about,
        subject=generic,
        duration=duration,
        quorum_pct=quorum,
        electorate=panel,
        decided_by=decided_by,
        conflicted=excluded,
        now=now,
    )
    if panel is not None:
        log_write(
            actor=None,
            action="appeal.panel_drawn",
            obj=proposal,
            summary=f"Panel of {len(panel)} drawn for appeal #{proposal.pk}",
            data={"panel": sorted(m.pk for m in panel), "excluded": sorted(excluded)},
        )
    notify_users(
        users=[member],
        kind="governance.appeal_filed",
        title="Your appeal is filed",
        body=f"It will be decided by {proposal.closes_at:%Y-%m-%d %H:%M} UTC.",
        url=proposal_url(proposal),
        force=True,
    )
    return proposal
