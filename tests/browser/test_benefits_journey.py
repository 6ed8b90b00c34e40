"""A member files a sick-day claim in Chromium; the members' rules approve it and the pay appears in their earnings."""

import datetime as dt
from decimal import Decimal as D

import pytest
from django.utils import timezone

from governance.models import PolicyValue
from marketplace.services import claiming, submission
from tests import factories
from tests.browser.conftest import in_thread, sign_in
from tests.browser.test_accessibility import serious_violations

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _rule(key, value):
    PolicyValue.objects.create(key=key, value=D(value), effective_from=timezone.now() - dt.timedelta(seconds=1))


def _work(member, *, tasks, pay, title):
    project = factories.make_project(tasks=tasks, pay_per_task=pay, estimated_seconds=60, overlap=1, max_overlap=1, title=title)
    for i in range(tasks):
        lease = claiming.work_next(worker=member, project=project).assignment
        submission.assignment_submit(worker=member, assignment_id=lease.pk, payload={"text": f"t{i}"}, idempotency_key=f"{title}{i}")


def _member_with_a_fund():
    # The members' rules (as votes would set them): 4 accepted answers make a member eligible.
    _rule("benefits_min_answers", "4")
    # Another member's work feeds the fund: 4 × 100.00 at a 5 % fee is 20.00, all of it set aside here.
    _rule("benefits_share_of_fee", "1")
    _work(factories.make_member("feeder@example.org"), tasks=4, pay="100.0000", title="Receipts")
    _rule("benefits_share_of_fee", "0.20")
    member = factories.make_member("sick@example.org")
    _work(member, tasks=4, pay="2.5000", title="Invoices")  # 10.00 earned today: a day's pay of 10.00
    return member


def test_a_sick_day_claim_is_approved_by_the_rules_and_paid_into_earnings(page):
    member = in_thread(_member_with_a_fund)
    sign_in(page, member.email, factories.PASSWORD)
    page.goto("/work/earnings/")
    assert page.get_by_test_id("available").inner_text() == "USD 10.00"

    page.goto("/work/benefits/")
    assert page.get_by_test_id("eligible").inner_text().startswith("Yes.")
    assert serious_violations(page) == []
    today = dt.date.today()
    page.select_option("#id_kind", "sick_days")
    page.fill("#id_start_date", (today - dt.timedelta(days=1)).isoformat())
    page.fill("#id_end_date", today.isoformat())
    page.fill("#id_statement", "Fever and a sore throat; the doctor said two days of rest.")
    page.get_by_test_id("file-claim").click()
    page.wait_for_url("**/work/benefits/claims/**")
    assert page.get_by_test_id("claim-status").inner_text() == "Paid"
    assert page.get_by_test_id("claim-amount").inner_text() == "USD 20.00"
    assert "Approved by the rules" in page.get_by_test_id("claim-reasons").inner_text()

    page.goto("/work/earnings/")
    assert page.get_by_test_id("available").inner_text() == "USD 30.00"
    assert "Benefit paid from the fund" in page.content()

    page.goto("/work/benefits/fund/")
    assert page.get_by_test_id("fund-outflow").inner_text() == "USD 20.00"
    assert serious_violations(page) == []
