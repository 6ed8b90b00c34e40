"""Demo governance for seed_demo: the demo client's contract and DUA, ratified by the demo members' vote."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from coop.models import ClientOrganization, User

from . import services
from .models import Elector, Proposal
from .selectors import dua_covering

TASK_TYPES = ["ocr", "classification", "pairwise", "ranking", "rubric", "multilabel", "rewrite"]


def _ratify(proposal: Proposal, opened_at: dt.datetime) -> None:
    for elector in Elector.objects.filter(proposal=proposal).select_related("membership__user"):
        services.ballot_cast(proposal=proposal, user=elector.membership.user, choice="yes", now=opened_at + dt.timedelta(hours=1))
    services.proposal_close(proposal=proposal, now=proposal.closes_at)


def ensure_demo_member_proposal() -> None:
    """A member's proposal looking for co-sponsors, with the start of a discussion: members can back it and reply."""
    from coop.models import Membership

    title = "Pay reviewers for the time they spend on appeals"
    if Proposal.objects.filter(title=title).exists():
        return
    members = list(Membership.objects.filter(status="active", is_steward=False).select_related("user").order_by("pk")[:2])
    if len(members) < 2:
        return
    proposal = services.proposal_draft(
        author=members[0].user,
        kind="general_motion",
        title=title,
        body="Answering an appeal takes a reviewer **10–20 minutes**. Pay it at the co-op's pay floor, from the co-op fee.",
        discussion_days=3,
    )
    services.proposal_cosponsor(proposal=proposal, user=members[1].user)
    services.comment_post(proposal=proposal, author=members[1].user, body="Agreed. Could we cap it per month?")


def ensure_demo_motion(steward: User) -> None:
    """An open vote, so the demo has something to decide."""
    title = "Adopt the co-op's code of conduct for reviewers"
    if not Proposal.objects.filter(title=title).exists():
        services.proposal_create(
            actor=steward,
            kind="general_motion",
            title=title,
            body="Reviewers explain every rejection in writing, never review their own work, and answer appeals within 7 days.",
        )


def ensure_demo_agreements(organization: ClientOrganization, steward: User) -> None:
    """Once: a contract and DUA covering all task types, voted through by every demo member a week ago."""
    if all(dua_covering(organization=organization, task_type=t) for t in TASK_TYPES):
        return
    opened_at = timezone.now() - dt.timedelta(days=8)
    today = timezone.localdate()
    contract = services.contract_create(
        actor=steward,
        organization=organization,
        title=f"{organization.name}: CAPTCHA OCR, sentiment and preference data",
        scope="Transcribing synthetic CAPTCHA images, classifying and tagging product reviews, comparing, ranking, rating "
        "and rewriting model answers.",
        task_types=TASK_TYPES,
        rate_card={"ocr": "0.07", "classification": "0.045", "pairwise": "0.15", "ranking": "0.25", "rubric": "0.25",
                   "multilabel": "0.06", "rewrite": "0.60"},
        payment_terms="Escrow funded before publication; workers paid on acceptance.",
        term_start=today - dt.timedelta(days=10),
        term_end=today + dt.timedelta(days=365),
        termination_notice_days=30,
    )
    _ratify(services.contract_propose(actor=steward, contract=contract, now=opened_at), opened_at)
    dua = services.dua_create(
        actor=steward,
        contract=contract,
        permitted_purposes=["model_training", "evaluation"],
        prohibited_uses=["Surveillance or identification of individuals", "Resale of the raw data"],
        train_models=True,
        publish_trained_models=False,
        commercial_use_of_outputs=True,
        retention_days=180,
        attribution_text="Labelled by the members of Data Co-op.",
        welfare_provisions="Any item may be skipped without penalty.",
        personal_data_class="none",
        breach_reporting_hours=48,
        audit_rights="The co-op may audit use once a year.",
        training_summary_required=True,
        revenue_share_pct="2.50",
        signatories=[{"name": "Casey Client", "role": "CTO", "date": str(today - dt.timedelta(days=9))}],
    )
    _ratify(services.dua_propose(actor=steward, dua=dua, now=opened_at), opened_at)
