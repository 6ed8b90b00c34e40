"""A member sees an expert project they cannot take yet, takes the paid test, passes, and labels it at the rate card's pay."""

from decimal import Decimal as D

import pytest

from marketplace.ledger.selectors import worker_balance
from marketplace.models import AcceptedLabel
from tests import factories
from tests.browser.conftest import in_thread, sign_in
from tests.marketplace.expert import make_qualification, vote_rate

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _setup():
    organization = factories.make_organization("Radiology Labs")
    qualification = make_qualification(organization)
    vote_rate(qualification, hourly="60.00")
    # 0.2000 per 12 s task = 60.00/hour: exactly the members' rate card for the skill (publication checks it).
    project = factories.make_project(
        organization, tasks=1, overlap=1, title="Read the prescriptions", pay_per_task="0.2000", estimated_seconds=12,
        required_qualifications=[qualification.slug],
    )
    member = factories.make_member("expert@example.org")
    return qualification, project, member


def test_member_takes_a_test_passes_and_claims_the_project_that_required_it(page, asgi_live_server):
    qualification, project, member = in_thread(_setup)
    sign_in(page, member.email, factories.PASSWORD)

    page.goto("/work/")
    needed = page.get_by_test_id("qualification-needed")
    assert qualification.name in needed.inner_text() and "60.00/hour" in page.content()
    needed.get_by_role("link", name=qualification.name).click()
    assert "2.0000" in page.get_by_test_id("test-pay").inner_text()
    page.get_by_test_id("start-test").click()

    items = in_thread(lambda: list(qualification.items.order_by("position")))
    page.check(f"input[name=item-{items[0].pk}][value=negation]")
    page.check(f"input[name=item-{items[1].pk}][value=affirmation]")
    page.check(f"input[name=item-{items[2].pk}][value=a]")
    page.fill(f"input[name=item-{items[3].pk}]", "Rx 42")
    page.get_by_test_id("submit-test").click()
    result = page.get_by_test_id("result").inner_text()
    assert "100.00 %" in result and "You passed" in result

    page.goto("/work/")
    page.get_by_test_id(f"start-{project.pk}").click()
    page.wait_for_selector("#task-area[data-task-id]")
    field = page.get_by_test_id("answer-input")
    field.fill("t0")
    field.press("Enter")
    page.get_by_test_id("no-work").wait_for()
    assert in_thread(lambda: AcceptedLabel.objects.filter(project=project).count()) == 1
    # Paid for the test (2.0000) and for the task at the rate card's pay (0.2000), through the ledger.
    assert in_thread(lambda: worker_balance(member)["available"]) == D("2.2000")
