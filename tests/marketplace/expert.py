"""Helpers for the expert-work tests: qualifications with tests, passing them, deciding votes."""

from __future__ import annotations

from decimal import Decimal as D

from governance import services as governance
from governance.models import Elector
from marketplace.expert import qualifications
from tests import factories

ITEMS = [
    {"task_type": "classification", "data": {"text": "Patient denies chest pain."}, "choices": ["negation", "affirmation"],
     "gold": {"choice": "negation"}, "explanation": "“Denies” negates the finding."},
    {"task_type": "classification", "data": {"text": "Chest pain reported on exertion."}, "choices": ["negation", "affirmation"],
     "gold": {"choice": "affirmation"}, "explanation": "The finding is present."},
    {"task_type": "pairwise", "data": {"prompt": "Which summary is faithful?", "response_a": "No pain.", "response_b": "Pain."},
     "gold": {"preferred": "a"}, "explanation": "A keeps the negation."},
    {"task_type": "ocr", "data": {"image": factories.png_base64("Rx 42")}, "gold": {"text": "Rx 42"}, "case_sensitive": True},
]
RIGHT = {0: {"choice": "negation"}, 1: {"choice": "affirmation"}, 2: {"preferred": "a"}, 3: {"text": "Rx 42"}}
WRONG = {0: {"choice": "affirmation"}, 1: {"choice": "negation"}, 2: {"preferred": "b"}, 3: {"text": "rx 42"}}


def make_qualification(sponsor=None, *, fund: bool = True, **fields):
    """A qualification with a 4-item test (classification, pairwise, OCR), sponsored by `sponsor` (funded) or the co-op."""
    defaults = {
        "name": "Radiology reports", "items": ITEMS, "pass_mark": "75", "test_pay": "2.0000", "test_estimated_seconds": 300,
        "retry_delay_hours": 24, "tier": "medical",
    }
    defaults.update(fields)
    actor = None if sponsor is not None else factories.make_steward()
    qualification = qualifications.qualification_create(actor=actor, sponsor=sponsor, **defaults)
    if sponsor is not None and fund:
        factories.deposit(sponsor, "100.00")
    return qualification


def answers(attempt, pattern):
    items = list(attempt.qualification.items.order_by("position"))
    return {str(item.pk): pattern[index] for index, item in enumerate(items) if index in pattern}


def pass_test(member, qualification):
    attempt = qualifications.attempt_start(member=member, qualification=qualification)
    return qualifications.attempt_submit(member=member, attempt_id=attempt.pk, answers=answers(attempt, RIGHT))


def decide(proposal, choice="yes"):
    for elector in Elector.objects.filter(proposal=proposal).select_related("membership__user"):
        governance.ballot_cast(proposal=proposal, user=elector.membership.user, choice=choice)
    governance.proposal_close(proposal=proposal, now=proposal.closes_at)
    proposal.refresh_from_db()
    return proposal


def vote_rate(qualification=None, *, hourly="60.00", tier=""):
    """A member proposes a rate card, enough members co-sponsor, the vote opens and passes: the real path."""
    from marketplace.expert import rate_cards

    proposal = rate_cards.rate_card_propose(author=factories.make_member(), qualification=qualification, tier=tier, hourly_minimum=hourly)
    for _ in range(proposal.sponsors_required):
        governance.proposal_cosponsor(proposal=proposal, user=factories.make_member())
    governance.proposals_open_due()
    proposal.refresh_from_db()
    return decide(proposal, "yes")


__all__ = ["vote_rate", "D", "ITEMS", "RIGHT", "WRONG", "make_qualification", "answers", "pass_test", "decide"]
