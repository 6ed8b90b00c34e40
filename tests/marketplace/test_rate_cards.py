"""Rate cards by skill, voted by the members: publication, the feed and relaunches hold to them; transparency shows them."""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from django.db import IntegrityError, transaction

from coop.errors import ApplicationError
from governance import services as governance
from governance.models import Proposal
from marketplace.expert import rate_cards
from marketplace.expert.models import RateCardRate
from marketplace.services import claiming, projects
from tests import factories
from tests.marketplace.expert import decide, make_qualification, pass_test

pytestmark = pytest.mark.django_db


def voted_rate(qualification=None, *, hourly="60.00", tier=""):
    """A member proposes, three co-sponsor, the vote opens and passes: the real path."""
    author = factories.make_member()
    proposal = rate_cards.rate_card_propose(author=author, qualification=qualification, tier=tier, hourly_minimum=hourly,
                                            reason="Radiologists are paid 150/hour elsewhere; 60 is our floor.")
    assert proposal.status == "draft"
    for _ in range(proposal.sponsors_required):
        governance.proposal_cosponsor(proposal=proposal, user=factories.make_member())
    governance.proposals_open_due()
    proposal.refresh_from_db()
    assert proposal.status == "open"
    return decide(proposal, "yes")


def test_a_passed_vote_sets_the_rate_and_publication_names_the_card_the_rate_and_the_minimum(organization):
    qualification = make_qualification(organization)
    proposal = voted_rate(qualification)
    rate = RateCardRate.objects.get()
    assert rate.proposal == proposal and rate.hourly_minimum == D("60.00") and proposal.effect_status == "applied"
    draft = factories.make_project(organization, tasks=3, publish=False, pay_per_task="0.1000", estimated_seconds=12,
                                   required_qualifications=[qualification.slug])
    factories.make_active_dua(organization)
    factories.fund_project(draft)
    with pytest.raises(ApplicationError) as refused:
        projects.project_publish(project=draft)  # 30.00/hour: above the 20.00 floor, below the 60.00 card
    error = refused.value
    assert error.code == "below_expert_rate" and "Radiology reports" in error.message
    assert error.extra["hourly_minimum"] == "60.00" and error.extra["minimum_pay_per_task"] == "0.2000"
    projects.project_update(project=draft, pay_per_task="0.2000")
    factories.fund_project(draft)
    assert projects.project_publish(project=draft).status == "published"


def test_a_tier_rate_applies_to_every_qualification_of_the_tier_and_the_highest_wins(organization):
    qualification = make_qualification(organization)  # tier "medical"
    voted_rate(tier="medical", hourly="90.00")
    voted_rate(qualification, hourly="60.00")
    draft = factories.make_project(organization, tasks=3, publish=False, pay_per_task="0.2000", estimated_seconds=12,
                                   required_qualifications=[qualification.slug])
    factories.make_active_dua(organization)
    factories.fund_project(draft)
    with pytest.raises(ApplicationError) as refused:
        projects.project_publish(project=draft)
    assert refused.value.extra["hourly_minimum"] == "90.00" and "medical tier" in refused.value.message


def test_adversarial_a_raised_rate_takes_a_live_project_off_the_feed_at_once(organization):
    qualification = make_qualification(organization)
    member = factories.make_member()
    pass_test(member, qualification)
    live = factories.make_project(organization, tasks=3, pay_per_task="0.2000", estimated_seconds=12, required_qualifications=[qualification.slug])
    assert claiming.work_next(worker=member, project=live).assignment is not None
    claiming.assignment_release(worker=member, assignment_id=claiming.work_next(worker=member, project=live).assignment.pk)
    voted_rate(qualification, hourly="90.00")
    assert claiming.work_next(worker=member, project=live).reason == "below_expert_rate"


def test_adversarial_no_rate_without_a_vote(organization):
    qualification = make_qualification(organization)
    with pytest.raises(IntegrityError), transaction.atomic():
        RateCardRate.objects.create(qualification=qualification, hourly_minimum=D("1.00"))
    failed = rate_cards.rate_card_propose(author=factories.make_member(), qualification=qualification, hourly_minimum="5.00")
    for _ in range(failed.sponsors_required):
        governance.proposal_cosponsor(proposal=failed, user=factories.make_member())
    governance.proposals_open_due()
    decide(Proposal.objects.get(pk=failed.pk), "no")
    assert not RateCardRate.objects.exists()


def test_bad_proposals_are_refused(organization, member):
    qualification = make_qualification(organization)
    for bad in ({"hourly_minimum": "0"}, {"hourly_minimum": "12.345"}, {"hourly_minimum": 12.5}, {"hourly_minimum": "abc"}):
        with pytest.raises(ApplicationError):
            rate_cards.rate_card_propose(author=member, qualification=qualification, **bad)
    with pytest.raises(ApplicationError):
        rate_cards.rate_card_propose(author=member, qualification=qualification, tier="medical", hourly_minimum="50")
    with pytest.raises(ApplicationError):
        rate_cards.rate_card_propose(author=factories.make_applicant(), qualification=qualification, hourly_minimum="50")
    assert not Proposal.objects.filter(kind="rate_card_change").exists()


def test_the_rate_card_api(organization, member_api, member):
    qualification = make_qualification(organization)
    created = member_api.post("/api/v1/rate-cards/", {"qualification": qualification.slug, "hourly_minimum": "70.00"}, format="json")
    assert created.status_code == 201 and created.json()["status"] == "draft"
    assert member_api.post("/api/v1/rate-cards/", {"qualification": qualification.slug, "hourly_minimum": 70.5}, format="json").status_code == 400
    assert member_api.get("/api/v1/rate-cards/").json() == []


INSTRUCTIONS = "Read the radiology report and say whether the finding is present or negated. Follow the style guide exactly."


def test_adversarial_a_near_identical_relaunch_cutting_an_expert_rate_is_held_even_without_the_requirement(organization):
    qualification = make_qualification(organization)
    factories.make_member(), factories.make_member()
    earlier = factories.make_project(organization, task_type="classification", tasks=3, pay_per_task="0.5000", estimated_seconds=12,
                                     instructions=INSTRUCTIONS, required_qualifications=[qualification.slug])
    # The same brief, the expert requirement dropped, at a third of the pay (still above the floor).
    cheaper = factories.make_project(organization, task_type="classification", tasks=3, publish=False, pay_per_task="0.1000",
                                     estimated_seconds=12, instructions=INSTRUCTIONS)
    factories.fund_project(cheaper)
    held = projects.project_publish(project=cheaper)
    assert held.status == "held" and held.relaunch_of_id == earlier.pk
    vote = Proposal.objects.get(kind="rate_cut_relaunch")
    assert vote.payload["earlier_required_qualifications"] == [qualification.slug] and vote.payload["required_qualifications"] == []
    assert "expert work requiring Radiology reports" in vote.body


def test_transparency_shows_hourly_pay_per_qualification(organization, client):
    qualification = make_qualification(organization)
    voted_rate(qualification, hourly="60.00")
    factories.make_project(organization, tasks=2, pay_per_task="0.3000", estimated_seconds=12, required_qualifications=[qualification.slug])
    member = factories.make_member()
    client.force_login(member)
    page = client.get("/work/transparency/").content.decode()
    assert 'data-testid="pay-by-qualification"' in page and "Radiology reports" in page and "90.00" in page and "60.00" in page


def test_members_propose_rates_and_nominate_from_the_portal(organization, member, client):
    qualification = make_qualification(organization)
    candidate = factories.make_member()
    client.force_login(member)
    response = client.post("/work/rate-cards/propose/", {"qualification": qualification.slug, "hourly_minimum": "55.00", "reason": "Fair."})
    proposal = Proposal.objects.get(kind="rate_card_change")
    assert response.url == f"/governance/proposals/{proposal.pk}/" and proposal.payload["hourly_minimum"] == "55.00"
    client.post("/work/rate-cards/propose/", {"qualification": qualification.slug, "hourly_minimum": "-1"})
    assert Proposal.objects.filter(kind="rate_card_change").count() == 1
    client.post(f"/work/qualifications/{qualification.slug}/nominate/",
                {"member_number": candidate.membership.member_number, "evidence": "Board-certified radiologist for ten years."})
    assert Proposal.objects.get(kind="qualification_grant").payload["candidate_membership"] == candidate.membership.pk
