"""A member's accepted work shows up as earnings in Chromium, and they request a payout of all of it."""

import pytest

from marketplace.services import claiming, submission
from tests import factories
from tests.browser.conftest import in_thread, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _paid_work():
    member = factories.make_member("earner@example.org")
    # 4 tasks at 2.5000 each, overlap 1: consensus accepts every answer at once, and each is paid from escrow.
    project = factories.make_project(tasks=4, pay_per_task="2.5000", estimated_seconds=60, overlap=1, max_overlap=1, title="Invoices")
    for i in range(4):
        lease = claiming.work_next(worker=member, project=project).assignment
        submission.assignment_submit(worker=member, assignment_id=lease.pk, payload={"text": f"t{i}"}, idempotency_key=f"k{i}")
    return member


def test_accepted_work_is_on_the_earnings_page_and_paid_out_on_request(page):
    member = in_thread(_paid_work)
    sign_in(page, member.email, factories.PASSWORD)
    page.goto("/work/earnings/")
    assert page.get_by_test_id("available").inner_text() == "USD 10.00"
    assert page.get_by_test_id("accepted").inner_text() == "USD 10.00"
    assert "Invoices" in page.get_by_test_id("project-pay").inner_text()

    page.get_by_test_id("request-payout").click()  # empty amount: everything available
    page.wait_for_url("**/work/earnings/**")
    assert page.get_by_test_id("available").inner_text() == "USD 0.00"
    assert page.get_by_test_id("payout-pending").inner_text() == "USD 10.00"
    assert "Requested" in page.get_by_test_id("payout").inner_text()
