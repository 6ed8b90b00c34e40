"""Due process: suspensions need a reason, evidence and a vote; every suspension and rejection can be appealed.

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
from datetime import datetime

from django.db import models
from django.utils import timezone

from coop.errors import ApplicationError, Conflict, Forbidden
from coop.models import Membership, MembershipEvent, User

from ..models import Proposal, ProposalKind
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
        raise Forbidden("Only stewards can propose a suspension.", code="steward_required")
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
        raise ApplicationError("A suspension needs a reason and evidence.", code="reason_and_evidence_required", fields=errors)
    proposal = proposal_create_unchecked(
        creator=actor,
        kind=K.SUSPENSION,
        title=f"Suspend {membership.display_name}?",
        body=f"Reason: {reason}\n\nEvidence:\n{evidence}",
        payload={"reason": reason, "evidence": evidence},
        membership=membership,
        now=now,
        **{k: v for k, v in rules.items() if v is not None},
    )
    notify_users(
        users=[membership.user],
        kind="governance.suspension_proposed",
        title="The members are voting on suspending you",
        body=f"Reason: {reason}\nEvidence: {evidence}\nYou can read the proposal and vote. If you are suspended you can appeal.",
        url=proposal_url(proposal),
        force=True,
    )
    return proposal


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
        raise Forbidden("Only members of the co-op can appeal here.", code="not_a_member")
    reason = (reason or "").strip()
    if len(reason) < 10:
        raise ApplicationError(
            "Explain why the decision should change (at least 10 characters).",
            code="reason_required",
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
            raise Forbidden("You can only appeal your own suspension.", code="not_your_decision")
        if subject.status != Membership.Status.SUSPENDED:
            raise Conflict("Your membership is not suspended.", code="not_suspended")
        suspension = _latest_suspension(subject)
        if suspension is not None:
            if suspension.actor_id:
                excluded.update(Membership.objects.filter(user_id=suspension.actor_id).values_list("pk", flat=True))
            if earlier.filter(membership=subject, created_at__gte=suspension.created_at).exists():
                raise Conflict("This suspension was already appealed and decided.", code="already_appealed")
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
            raise Conflict("This decision was already appealed and decided.", code="already_appealed")
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
