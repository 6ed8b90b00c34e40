"""In Chromium: a member proposes, two co-sponsor, members discuss, one names a proxy, votes are cast, the result and outcome show."""

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.utils import timezone

from governance import services as governance
from governance.models import PolicyValue, Proposal
from tests import factories
from tests.browser.conftest import in_thread, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _setup():
    # The members have set the co-sponsor threshold to 2 (as a vote would: a policy row in force from a minute ago).
    PolicyValue.objects.create(key="proposal_cosponsors", value=Decimal(2), effective_from=timezone.now() - dt.timedelta(minutes=1))
    names = ["author", "amal", "bea", "chen"]
    return {name: factories.make_member(f"{name}@example.org", display_name=name.title()) for name in names}


def _as(browser, server, user):
    context = browser.new_context(base_url=server.url)
    context.set_default_timeout(15_000)
    page = context.new_page()
    sign_in(page, user.email, factories.PASSWORD)
    return context, page


def test_member_proposal_from_draft_to_outcome(browser, page, asgi_live_server):
    members = in_thread(_setup)

    # The author drafts, previews, and puts the proposal forward.
    sign_in(page, members["author"].email, factories.PASSWORD)
    page.goto("/governance/proposals/new/")
    page.get_by_test_id("member-kinds").get_by_role("link", name="General motion").click()
    page.get_by_label("Title").fill("Publish reviewer statistics")
    page.get_by_label("Text of the proposal").fill("Every month, **per reviewer**: rejections and overturned appeals.")
    page.get_by_label("Discussion before voting opens (days)").fill("0")
    page.get_by_role("button", name="Preview").click()
    assert page.get_by_test_id("proposal-preview").locator("strong").inner_text() == "per reviewer"
    page.get_by_role("button", name="Put it forward").click()
    page.wait_for_url(re.compile(r"/governance/proposals/\d+/$"))
    proposal_url = page.url
    assert page.get_by_test_id("proposal-status").inner_text() == "Gathering co-sponsors"
    assert page.get_by_test_id("author").inner_text() == "Author"

    # Two members co-sponsor; the second one opens the vote. One of them comments, the author replies.
    for name in ("amal", "bea"):
        context, member_page = _as(browser, asgi_live_server, members[name])
        member_page.goto(proposal_url)
        member_page.get_by_test_id("cosponsor").click()
        member_page.wait_for_selector("text=You co-sponsor this proposal.")
        if name == "amal":
            member_page.get_by_label("Your comment").fill("Good idea, but *monthly* is a lot of work.")
            member_page.get_by_test_id("comment-submit").click()
            member_page.wait_for_selector("[data-testid=comment] em")
        context.close()
    page.goto(proposal_url)
    assert page.get_by_test_id("proposal-status").inner_text() == "Open for voting"
    assert "Amal, Bea" in page.get_by_test_id("sponsors").inner_text()
    page.locator("[data-testid=comment] >> xpath=..").get_by_text("Reply").first.click()
    page.get_by_label("Your reply").fill("It is generated automatically.")
    page.get_by_role("button", name="Reply").click()
    page.wait_for_selector("text=It is generated automatically.")

    # Chen names Amal as proxy instead of voting.
    context, chen = _as(browser, asgi_live_server, members["chen"])
    chen.goto("/governance/proxies/")
    chen.get_by_label("Your proxy").select_option(label="Amal")
    chen.get_by_role("button", name="Save").click()
    chen.get_by_test_id("proxies-given").wait_for()
    context.close()

    # Votes: the author and Amal vote yes, Bea votes no.
    for name, choice in (("author", "Yes"), ("amal", "Yes"), ("bea", "No")):
        context, voter = _as(browser, asgi_live_server, members[name])
        voter.goto(proposal_url)
        voter.get_by_label(choice, exact=True).check()
        voter.get_by_role("button", name="Vote").click()
        voter.wait_for_selector("[data-testid=vote-history]")
        context.close()

    # The author's page would reload itself when the vote closes (its socket's "closed" event), racing the
    # goto below (net::ERR_ABORTED); it waits on the list, which has no proposal socket, meanwhile.
    page.goto("/governance/proposals/")
    proposal = in_thread(lambda: Proposal.objects.get(title="Publish reviewer statistics"))
    closed = in_thread(lambda: governance.proposal_close(proposal=proposal, now=proposal.closes_at))
    assert closed.outcome == "passed" and closed.result["counts"]["yes"] == 3 and closed.result["by_proxy"] == 1

    # The author records the outcome; the page shows result, proxy vote and outcome.
    page.goto(proposal_url)
    page.get_by_text("Write the outcome statement").click()
    page.get_by_label("Outcome statement").fill("Statistics go up on the first of each month, from March.")
    page.get_by_role("button", name="Save").click()
    page.get_by_test_id("outcome-statement").wait_for()
    assert "from March" in page.get_by_test_id("outcome-statement").inner_text()
    assert page.get_by_test_id("proposal-status").inner_text() == "Passed"
    assert "Chen — by proxy of Amal" in page.get_by_test_id("proxy-votes").inner_text()
