"""Governance test helpers: members, proposals, votes and agreements made through the real services."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.utils import timezone

from governance import services
from governance.models import Proposal
from tests import factories


def make_members(n: int) -> list:
    return [factories.make_member() for _ in range(n)]


def motion(actor, **overrides) -> Proposal:
    """An open general motion (yes/no, simple majority, quorum 20 %, named, results hidden)."""
    options = {"kind": "general_motion", "title": "Adopt the code of conduct"} | overrides
    return services.proposal_create(actor=actor, **options)


def close(proposal: Proposal) -> Proposal:
    """Close a proposal as the scheduled job would at its closing time."""
    return services.proposal_close(proposal=proposal, now=proposal.closes_at)


def vote(proposal: Proposal, user, choice: str = "", **ballot):
    return services.ballot_cast(proposal=proposal, user=user, choice=choice, **ballot)


def contract_terms(**overrides) -> dict:
    today = timezone.localdate()
    terms = {
        "title": "Invoice OCR 2026",
        "scope": "Transcribing scanned invoices for Acme's accounting model.",
        "task_types": ["ocr"],
        "rate_card": {"ocr": "0.12"},
        "payment_terms": "Escrow before publishing; paid within 7 days of acceptance.",
        "term_start": today - dt.timedelta(days=1),
        "term_end": today + dt.timedelta(days=365),
        "termination_notice_days": 30,
    }
    return terms | overrides


def dua_terms(**overrides) -> dict:
    terms = {
        "permitted_purposes": ["model_training", "evaluation"],
        "prohibited_uses": ["Surveillance of individuals", "Resale of the raw data"],
        "train_models": True,
        "retention_days": 90,
        "attribution_text": "Labelled by the members of Data Co-op.",
        "sensitive_content_categories": ["personal_data"],
        "welfare_provisions": "Workers may skip any item without penalty.",
        "personal_data_class": "pseudonymised",
        "breach_reporting_hours": 48,
        "audit_rights": "The co-op may audit use once a year.",
        "training_summary_required": True,
        "revenue_share_pct": Decimal("2.50"),
        "signatories": [{"name": "Casey Client", "role": "CTO", "date": "2026-01-05"}],
    }
    return terms | overrides


def ratify(agreement, steward, voters):
    """Propose an agreement, have `voters` vote yes, close: it is ratified (and active if its term has started)."""
    propose = services.contract_propose if agreement.__class__.__name__ == "Contract" else services.dua_propose
    proposal = propose(actor=steward, **{"contract" if agreement.__class__.__name__ == "Contract" else "dua": agreement})
    for voter in voters:
        vote(proposal, voter, "yes")
    close(proposal)
    agreement.refresh_from_db()
    return proposal
