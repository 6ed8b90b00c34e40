"""A member's earnings page, statement exports and payouts; the stewards' payouts desk. Every scenario ends with balanced books."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import zoneinfo
from decimal import Decimal as D

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from marketplace import earnings
from marketplace.ledger import payouts, selectors, services
from marketplace.ledger.models import AccountKind, LedgerEntry, LedgerTransaction, Payout
from tests import factories
from tests.marketplace.money import answer, assert_books_balance, fee_rate, funded_project, pay

pytestmark = pytest.mark.django_db


def _download(response) -> str:
    assert response.status_code == 200, response.content
    return b"".join(response.streaming_content).decode()


def _api(user) -> APIClient:
    api = APIClient()
    api.force_authenticate(user)
    return api


@pytest.fixture
def worker(db):
    return factories.make_member(display_name="Amina Worker")


@pytest.fixture
def rich_worker(organization, steward, worker):
    """A worker with 5 paid answers at 2.4691: 12.3455 available, a sub-cent remainder over whole cents."""
    project = funded_project(organization, steward, pay="2.4691", seconds=400, tasks=5)
    for _ in range(5):
        pay(answer(project, worker, active_seconds=100))
    assert selectors.worker_balance(worker)["available"] == D("12.3455")
    return worker


# --- The earnings page ------------------------------------------------------------------------------


def test_page_shows_balance_pending_accepted_top_ups_and_measured_hourly_pay(client, organization, steward, worker):
    paid_project = funded_project(organization, steward, pay="0.50", title="Reviews")
    slow = answer(paid_project, worker, active_seconds=45)
    fast = answer(paid_project, worker, active_seconds=75)
    unmeasured = answer(paid_project, worker)  # no active time reported: paid, but not part of the rate
    for a in (slow, fast, unmeasured):
        pay(a)
    services.top_up_post(answer=slow, amount=D("0.10"), fee_rate=fee_rate(), event_key="test-top-up:1")
    review_project = funded_project(organization, steward, pay="0.40", overlap=2, title="Tweets")
    answer(review_project, worker, active_seconds=30)  # overlap 2: waits for a second answer

    summary = earnings.worker_earnings_summary(worker)
    assert (summary["accepted"], summary["top_ups"], summary["available"]) == (D("1.50"), D("0.10"), D("1.60"))
    assert (summary["pending_count"], summary["pending_value"]) == (1, D("0.40"))
    [row] = earnings.worker_project_pay(worker)
    # (0.50 + 0.10 + 0.50) earned on the two measured answers over 45 + 75 s = 33.00 an hour.
    assert (row["answers_paid"], row["answers_measured"], row["active_seconds"], row["hourly"]) == (3, 2, 120, D("33.00"))

    client.force_login(worker)
    page = client.get("/work/earnings/").content.decode()
    for text in ("USD 1.60", "USD 1.50", "USD 0.10", "USD 0.40", "1 submitted answer not decided", "USD 33.00/h", "Reviews"):
        assert text in page, text
    assert "Tweets" not in page  # nothing paid there yet
    assert_books_balance()


def test_page_queries_do_not_grow_with_history(client, organization, steward, worker):
    project = funded_project(organization, steward, pay="2.50", seconds=300, tasks=6)
    pay(answer(project, worker, active_seconds=100))
    client.force_login(worker)
    with CaptureQueriesContext(connection) as few:
        assert client.get("/work/earnings/").status_code == 200
    for _ in range(4):
        pay(answer(project, worker, active_seconds=100))
    payouts.payout_cancel(payout=payouts.payout_request(worker=worker, amount=D("10.00")), actor=worker)
    payouts.payout_request(worker=worker)
    with CaptureQueriesContext(connection) as many:
        page = client.get("/work/earnings/")
    assert page.content.decode().count('data-testid="payout"') == 2
    assert len(many.captured_queries) == len(few.captured_queries)


def test_statement_filters_by_date_and_exports_match_the_ledger(client, organization, steward, worker):
    project = funded_project(organization, steward, pay="0.75")
    earnings = [pay(answer(project, worker, active_seconds=50)) for _ in range(2)]
    client.force_login(worker)

    rows = json.loads(_download(client.get("/work/earnings/", {"download": 1, "format": "json"})))
    assert [r["event_key"] for r in rows] == [t.event_key for t in earnings]
    for row in rows:  # each line is the credit the ledger posted to this worker's earnings account
        entry = LedgerEntry.objects.get(
            transaction__event_key=row["event_key"], account__kind=AccountKind.WORKER_EARNINGS, account__user=worker
        )
        assert D(row["amount"]) == -entry.amount == D("0.75") and row["project"] == project.pk
    assert [r["balance"] for r in rows] == ["0.7500", "1.5000"]

    table = list(csv.DictReader(io.StringIO(_download(client.get("/work/earnings/", {"download": 1, "format": "csv"})))))
    assert [{k: str(v) for k, v in r.items()} for r in rows] == table

    # Dates are the member's own (the portal works in their timezone): "today" in Nairobi is not always today in UTC.
    today = timezone.localdate(timezone=zoneinfo.ZoneInfo(worker.membership.timezone))
    tomorrow, yesterday = (today + dt.timedelta(days=1)).isoformat(), (today - dt.timedelta(days=1)).isoformat()
    assert json.loads(_download(client.get("/work/earnings/", {"download": 1, "format": "json", "from": tomorrow}))) == []
    assert json.loads(_download(client.get("/work/earnings/", {"download": 1, "format": "json", "to": yesterday}))) == []
    assert len(json.loads(_download(client.get("/work/earnings/", {"download": 1, "from": today, "to": today})))) == 2
    # The htmx filter swaps in the statement rows only, with the opening balance of the range.
    partial = client.get("/work/earnings/", {"from": tomorrow}, HTTP_HX_REQUEST="true").content.decode()
    assert "<h1>" not in partial and "No money moved in this range." in partial and "Opening balance USD 1.50" in partial
    backwards = client.get("/work/earnings/", {"from": tomorrow, "to": yesterday}, follow=True)
    assert "&#x27;from&#x27; is after &#x27;to&#x27;." in backwards.content.decode()

    api_rows = json.loads(_download(_api(worker).get("/api/v1/work/earnings/statement/")))
    assert api_rows == rows
    assert_books_balance()


# --- Payouts -------------------------------------------------------------------------------------------


def test_payout_below_minimum_or_above_balance_is_refused(client, organization, steward, worker):
    project = funded_project(organization, steward, pay="2.00", seconds=300, tasks=5)
    for _ in range(4):
        pay(answer(project, worker, active_seconds=100))
    client.force_login(worker)
    page = client.post("/work/earnings/payouts/", {"currency": "USD"}, follow=True).content.decode()
    assert "Payouts start at 10.00 USD" in page and Payout.objects.count() == 0  # 8.00 available
    pay(answer(project, worker, active_seconds=100))
    assert "You have 10.0000 USD available." in client.post("/work/earnings/payouts/", {"amount": "10.01", "currency": "USD"}, follow=True).content.decode()
    response = _api(worker).post("/api/v1/work/payouts/", {"amount": "9.99"}, format="json")
    assert response.status_code == 422 and response.json()["error"]["code"] == "below_payout_minimum"
    assert Payout.objects.count() == 0
    assert_books_balance()


def test_payout_rounds_down_to_cents_and_a_steward_marks_it_paid_with_a_reference(client, rich_worker, steward):
    client.force_login(rich_worker)
    client.post("/work/earnings/payouts/", {"amount": "", "currency": "USD"})
    payout = Payout.objects.get(worker=rich_worker)
    assert (payout.amount, payout.status) == (D("12.34"), Payout.Status.REQUESTED)
    balance = selectors.worker_balance(rich_worker)
    assert (balance["available"], balance["pending_payout"]) == (D("0.0055"), D("12.34"))  # the remainder carries over
    assert_books_balance()
    again = client.post("/work/earnings/payouts/", {"currency": "USD"}, follow=True).content.decode()
    assert "already have a payout request open" in again

    member = factories.make_member()
    client.force_login(member)
    assert client.post(f"/stewards/payouts/{payout.pk}/paid/", {"reference": "X"}).status_code == 403
    assert _api(member).post(f"/api/v1/payouts/{payout.pk}/paid/", {"reference": "X"}, format="json").status_code == 403
    assert _api(member).get("/api/v1/payouts/").status_code == 403

    client.force_login(steward)
    desk = client.get("/stewards/payouts/").content.decode()
    assert "Amina Worker" in desk and "USD 12.34" in desk and "balanced" in desk
    client.post(f"/stewards/payouts/{payout.pk}/paid/", {"reference": ""})
    payout.refresh_from_db()
    assert payout.status == Payout.Status.REQUESTED
    bank_before = selectors.balance_sheet()
    client.post(f"/stewards/payouts/{payout.pk}/paid/", {"reference": "MPESA-QX81"})
    payout.refresh_from_db()
    assert (payout.status, payout.reference, payout.decided_by) == (Payout.Status.PAID, "MPESA-QX81", steward)
    assert selectors.worker_balance(rich_worker)["paid_total"] == D("12.34")
    bank = dict(bank_before[0]["kinds"])["Co-op bank (real-world money)"] - dict(selectors.balance_sheet()[0]["kinds"])["Co-op bank (real-world money)"]
    assert bank == D("12.34")
    assert_books_balance()

    # Paying it again with the same reference changes nothing; with another one it is refused.
    assert _api(steward).post(f"/api/v1/payouts/{payout.pk}/paid/", {"reference": "MPESA-QX81"}, format="json").status_code == 200
    conflict = _api(steward).post(f"/api/v1/payouts/{payout.pk}/paid/", {"reference": "OTHER"}, format="json")
    assert conflict.status_code == 409 and conflict.json()["error"]["code"] == "payout_already_paid"
    assert LedgerTransaction.objects.filter(kind="payout_paid").count() == 1
    client.force_login(rich_worker)
    assert "MPESA-QX81" in client.get("/work/earnings/").content.decode()
    assert_books_balance()


def test_member_cancels_own_payout_and_steward_cancels_through_the_desk(client, rich_worker, steward):
    client.force_login(rich_worker)
    client.post("/work/earnings/payouts/", {"amount": "10.00", "currency": "USD"})
    payout = Payout.objects.get(worker=rich_worker)
    client.post(f"/work/earnings/payouts/{payout.pk}/cancel/")
    payout.refresh_from_db()
    assert payout.status == Payout.Status.CANCELLED and selectors.worker_balance(rich_worker)["available"] == D("12.3455")
    assert_books_balance()

    second = _api(rich_worker).post("/api/v1/work/payouts/", {}, format="json")
    assert second.status_code == 201 and second.json()["amount"] == "12.3400"
    client.force_login(steward)
    client.post(f"/stewards/payouts/{second.json()['id']}/cancel/")
    assert Payout.objects.get(pk=second.json()["id"]).status == Payout.Status.CANCELLED
    assert selectors.worker_balance(rich_worker)["available"] == D("12.3455")
    assert_books_balance()


# --- Permission boundaries -------------------------------------------------------------------------------


def test_a_member_never_sees_another_members_earnings_statement_or_payouts(client, organization, steward, rich_worker):
    other = factories.make_member(display_name="Bongani Other")
    project = funded_project(organization, steward, pay="3.3333", seconds=600, tasks=4)
    theirs = [pay(answer(project, other, active_seconds=110)) for _ in range(4)]
    their_payout = payouts.payout_request(worker=other, amount=D("11.11"))
    mine = payouts.payout_request(worker=rich_worker, amount=D("10.00"))

    client.force_login(rich_worker)
    page = client.get("/work/earnings/").content.decode()
    exports = [
        _download(client.get("/work/earnings/", {"download": 1, "format": fmt})) for fmt in ("csv", "json", "jsonl")
    ] + [_download(_api(rich_worker).get("/api/v1/work/earnings/statement/", {"format": "csv"}))]
    for text in [page, *exports]:
        assert "3.3333" not in text and "11.11" not in text and "Bongani" not in text
        assert not any(t.event_key in text for t in theirs)
    assert "12.3455" in exports[1]

    api = _api(rich_worker)
    assert [p["id"] for p in api.get("/api/v1/work/payouts/").json()["results"]] == [mine.pk]
    assert api.get("/api/v1/work/earnings/").json()["summary"]["pending_payout"] == "10.0000"
    assert api.post(f"/api/v1/work/payouts/{their_payout.pk}/cancel/").status_code == 404
    assert client.post(f"/work/earnings/payouts/{their_payout.pk}/cancel/").status_code == 404
    their_payout.refresh_from_db()
    assert their_payout.status == Payout.Status.REQUESTED
    assert client.get("/stewards/payouts/").status_code == 403
    assert_books_balance()


def test_client_users_and_applicants_have_no_earnings_page(client, client_user, applicant):
    for user in (client_user, applicant):
        client.force_login(user)
        assert client.get("/work/earnings/").status_code == 403
        assert client.get("/stewards/payouts/").status_code == 403
        assert _api(user).get("/api/v1/work/earnings/").status_code == 403


# --- Stewards: deposits and the books --------------------------------------------------------------------


def test_steward_records_a_deposit_once_and_non_stewards_cannot(client, organization, steward, member):
    form = {"organization": organization.pk, "amount": "250.00", "currency": "USD", "reference": "WIRE-2026-001"}
    client.force_login(member)
    assert client.post("/stewards/payouts/deposit/", form).status_code == 403
    assert selectors.client_cash_balance(organization) == 0 and not LedgerTransaction.objects.exists()

    client.force_login(steward)
    client.post("/stewards/payouts/deposit/", form)
    again = client.post("/stewards/payouts/deposit/", form, follow=True).content.decode()
    assert "was already recorded" in again
    assert selectors.client_cash_balance(organization) == D("250.00")
    assert LedgerTransaction.objects.filter(kind="deposit").count() == 1
    bad = client.post("/stewards/payouts/deposit/", {**form, "amount": "1.00001", "reference": "X"}, follow=True).content.decode()
    assert "amount" in bad and selectors.client_cash_balance(organization) == D("250.00")
    desk = client.get("/stewards/payouts/").content.decode()
    assert "Client cash</td><td>USD 250.00" in desk and "Trial balance: <strong>0.0000</strong>" in desk
    assert_books_balance()


def test_navigation_links_members_to_earnings_and_stewards_to_payouts(client, member, steward):
    client.force_login(member)
    nav = client.get("/work/earnings/").content.decode()
    assert 'href="/work/earnings/"' in nav and 'href="/stewards/payouts/"' not in nav
    client.force_login(steward)
    assert 'href="/stewards/payouts/"' in client.get("/dashboard/").content.decode()
