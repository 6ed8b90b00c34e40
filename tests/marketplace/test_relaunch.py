"""Rate-cut relaunch protection: a cheaper near-identical copy of a recent project waits for the members' vote."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal as D

import pytest

from governance import services as governance
from governance.models import Elector, Proposal
from marketplace.ledger.selectors import escrow_balance
from marketplace.models import Project
from marketplace.services import projects
from marketplace.services.relaunch import instructions_similarity, relaunch_similarity
from tests import factories

pytestmark = pytest.mark.django_db

INSTRUCTIONS = (
    "Transcribe the characters in the image exactly as shown. Letters and digits only; "
    "ignore the lines and dots drawn over them. If a character is unreadable, type ? in its place."
)


def project(organization, *, pay, publish=True, instructions=INSTRUCTIONS, start=0, **fields):
    """OCR tasks of 12 s: 0.1000 per task = 30.00/hour, 0.0800 = 24.00/hour."""
    made = factories.make_project(
        organization, tasks=0, publish=False, pay_per_task=pay, estimated_seconds=12, instructions=instructions, **fields
    )
    from marketplace.services import importing

    importing.tasks_import(project=made, rows=enumerate(factories.task_rows("ocr", 3, start=start), start=1))
    if publish:
        factories.make_active_dua(organization)
        factories.fund_project(made)
        made = projects.project_publish(project=made)
    return made


def decide(proposal, choice):
    for elector in Elector.objects.filter(proposal=proposal).select_related("membership__user"):
        governance.ballot_cast(proposal=proposal, user=elector.membership.user, choice=choice)
    governance.proposal_close(proposal=proposal, now=proposal.closes_at)


@pytest.fixture
def electorate():
    return [factories.make_member() for _ in range(3)]


def test_the_30_to_24_dollar_relaunch_is_held_and_published_only_after_a_yes_vote(organization, client_user, electorate):
    earlier = project(organization, pay="0.1000")
    assert earlier.effective_hourly_pay == D("30.00")
    # The same brief, reflowed and recased, over new items: both rates are above the 20.00 floor.
    cheaper = project(organization, pay="0.0800", publish=False, instructions=INSTRUCTIONS.upper().replace(". ", ".\n\n"), start=50)
    factories.fund_project(cheaper)
    held = projects.project_publish(project=cheaper)
    assert held.status == "held" and held.relaunch_of_id == earlier.pk and "20.0% less per hour" in held.status_reason
    assert escrow_balance(held) == 0  # funds are checked, and move only if the members agree

    vote = Proposal.objects.get(kind="rate_cut_relaunch")
    assert vote.subject == held and vote.payload["earlier_effective_hourly_pay"] == "30.00"
    assert vote.payload["effective_hourly_pay"] == "24.00" and "24.00/hour" in vote.body
    assert client_user.notifications.filter(kind="project.held").exists()
    assert [p.pk for p in Project.objects.filter(status="published")] == [earlier.pk]  # nobody can claim it meanwhile

    decide(vote, "yes")
    held.refresh_from_db()
    assert held.status == "published" and escrow_balance(held) > 0


def test_a_no_vote_sends_the_relaunch_back_to_draft_and_paying_the_old_rate_needs_no_vote(organization, electorate):
    earlier = project(organization, pay="0.1000")
    cheaper = project(organization, pay="0.0800", publish=False, start=50)
    factories.fund_project(cheaper)
    assert projects.project_publish(project=cheaper).status == "held"
    decide(Proposal.objects.get(kind="rate_cut_relaunch"), "no")
    cheaper.refresh_from_db()
    assert cheaper.status == "draft" and "did not agree" in cheaper.status_reason

    cheaper = projects.project_update(project=cheaper, pay_per_task="0.1000")  # the earlier rate
    factories.fund_project(cheaper)
    assert projects.project_publish(project=cheaper).status == "published"
    assert earlier.status == "published"


def test_cancelling_a_held_project_withdraws_the_vote(organization, electorate):
    project(organization, pay="0.1000")
    cheaper = project(organization, pay="0.0800", publish=False, start=50)
    factories.fund_project(cheaper)
    projects.project_publish(project=cheaper)
    projects.project_cancel(project=cheaper)
    assert Project.objects.get(pk=cheaper.pk).status == "cancelled"
    assert Proposal.objects.get(kind="rate_cut_relaunch").status == "withdrawn"


@pytest.mark.parametrize(
    "case",
    ["raise", "other_client", "other_type", "different_brief", "older_than_180_days"],
)
def test_what_never_holds(organization, electorate, case):
    earlier = project(organization, pay="0.1000")
    if case == "older_than_180_days":
        Project.objects.filter(pk=earlier.pk).update(published_at=earlier.published_at - timedelta(days=181))
    owner = factories.make_organization() if case == "other_client" else organization
    kwargs = {"pay": "0.1200" if case == "raise" else "0.0800", "publish": False, "start": 50}
    if case == "different_brief":
        kwargs["instructions"] = "Read the licence plate in the photo and type its registration number, without spaces."
    if case == "other_type":
        later = factories.make_project(owner, task_type="classification", tasks=3, publish=False, pay_per_task="0.0800",
                                       estimated_seconds=12, instructions=INSTRUCTIONS)
    else:
        later = project(owner, **kwargs)
    factories.make_active_dua(owner)
    factories.fund_project(later)
    assert projects.project_publish(project=later).status == "published"
    assert not Proposal.objects.filter(kind="rate_cut_relaunch").exists()


def test_similarity_is_word_based_and_data_can_match_by_schema_or_by_items(organization):
    assert instructions_similarity(INSTRUCTIONS, INSTRUCTIONS.lower().replace(" ", "  ")) == 1.0
    assert instructions_similarity(INSTRUCTIONS, INSTRUCTIONS + " Work carefully.") > 0.9
    assert instructions_similarity(INSTRUCTIONS, "Choose the sentiment of the product review.") < 0.3

    first = factories.make_project(organization, task_type="classification", tasks=3, publish=False, instructions=INSTRUCTIONS)
    same_items = factories.make_project(
        organization, task_type="classification", tasks=3, publish=False, instructions=INSTRUCTIONS, choices=["yes", "no"]
    )
    other_items = factories.make_project(organization, task_type="classification", tasks=0, publish=False,
                                         instructions=INSTRUCTIONS, choices=["yes", "no"])
    from marketplace.services import importing

    importing.tasks_import(project=other_items, rows=enumerate(factories.task_rows("classification", 3, start=500), start=1))
    # Two choices instead of three, so another answer space; but the same items: still the same data relaunched.
    by_items = relaunch_similarity(same_items, first)
    assert (by_items["same_answer_space"], by_items["content_overlap"], by_items["near_identical"]) == (False, 1.0, True)
    unrelated = relaunch_similarity(other_items, first)
    assert (unrelated["same_answer_space"], unrelated["content_overlap"], unrelated["near_identical"]) == (False, 0.0, False)


def test_the_client_api_says_the_project_is_held_and_why(org_api, organization, electorate):
    earlier = project(organization, pay="0.1000")
    cheaper = project(organization, pay="0.0800", publish=False, start=50)
    factories.fund_project(cheaper)
    response = org_api.post(f"/api/v1/projects/{cheaper.pk}/publish/")
    body = response.json()
    assert response.status_code == 200 and (body["status"], body["relaunch_of"]) == ("held", earlier.pk)
    assert "member vote" in body["status_reason"]
    # Claiming is closed meanwhile and a second publish is refused.
    again = org_api.post(f"/api/v1/projects/{cheaper.pk}/publish/")
    assert again.status_code == 409 and again.json()["error"]["code"] == "invalid_status"
