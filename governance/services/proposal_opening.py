"""Opening a proposal's vote: the electorate is frozen and the members are told. Shared by creation and the scheduler."""

from __future__ import annotations

from datetime import datetime

from django.urls import reverse

from coop.models import Membership, User

from ..models import Elector, Proposal, ProposalStatus
from .audit import log_write
from .notify import notify_users


def proposal_url(proposal: Proposal) -> str:
    return reverse("governance:proposal_detail", kwargs={"pk": proposal.pk})


def proposal_open(proposal: Proposal, *, now: datetime, electorate: list[Membership] | None = None) -> None:
    """Freeze the electorate (members in good standing now, or the drawn panel, less the parties to the case) and open."""
    conflicted = set(proposal.conflicted or ())
    if electorate is None:
        member_ids = list(
            Membership.objects.filter(status=Membership.Status.ACTIVE)
            .exclude(pk__in=conflicted)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
    else:
        member_ids = sorted(m.pk for m in electorate if m.status == Membership.Status.ACTIVE and m.pk not in conflicted)
    Elector.objects.bulk_create([Elector(proposal=proposal, membership_id=pk) for pk in member_ids])
    proposal.status = ProposalStatus.OPEN
    proposal.opened_at = now
    proposal.electorate_size = len(member_ids)
    proposal.save(update_fields=["status", "opened_at", "electorate_size"])
    log_write(
        actor=None,
        action="proposal.opened",
        obj=proposal,
        summary=f"Voting opened on “{proposal.title}” for {len(member_ids)} members",
        data={"electorate": len(member_ids), "decided_by": proposal.decided_by, "conflicted": sorted(conflicted)},
    )
    notify_users(
        users=User.objects.filter(membership__pk__in=member_ids),
        kind="governance.opened",
        title=f"New vote: {proposal.title}",
        body=f"Voting closes {proposal.closes_at:%Y-%m-%d %H:%M} UTC.",
        url=proposal_url(proposal),
    )
