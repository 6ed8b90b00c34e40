"""Data dividends: clients billed for model usage through the ledger; the revenue share split exactly among contributors."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from marketplace.ledger.models import LedgerTransaction
from marketplace.ledger.selectors import client_cash_balance, trial_balance, worker_balance
from mlops.models import PredictionUsage
from mlops.services.dividends import split_largest_remainder, usage_amounts, usage_bill, usage_bill_due
from mlops.services.snapshots import snapshot_create
from tests import factories

from .conftest import deposit, label_project, make_ocr_project, registered_version


@given(
    total=st.integers(min_value=0, max_value=10**9).map(lambda n: Decimal(n) / 10000),
    weights=st.dictionaries(st.integers(min_value=1, max_value=10**6), st.integers(min_value=0, max_value=10**5), max_size=40),
)
@hsettings(max_examples=300, deadline=None)
def test_largest_remainder_split_sums_exactly_and_is_proportional(total, weights):
    parts = split_largest_remainder(total, weights)
    positive = {k: w for k, w in weights.items() if w > 0}
    if not positive:
        assert parts == {}
        return
    assert sum(parts.values(), Decimal(0)) == total
    weight_sum = sum(positive.values())
    for key, weight in positive.items():
        exact = total * weight / weight_sum
        part = parts.get(key, Decimal(0))
        assert part == part.quantize(Decimal("0.0001")) and part >= 0
        assert abs(part - exact) < Decimal("0.0001")  # never more than one ten-thousandth from the exact share


def test_split_example_gives_the_leftover_to_the_largest_remainders():
    assert split_largest_remainder(Decimal("0.0010"), {1: 1, 2: 1, 3: 1}) == {
        1: Decimal("0.0004"), 2: Decimal("0.0003"), 3: Decimal("0.0003")
    }
    assert split_largest_remainder(Decimal("1"), {7: 2, 9: 1}) == {7: Decimal("0.6667"), 9: Decimal("0.3333")}


@pytest.fixture
def paid_model(db, steward):
    """A model of one client whose DUA shares 12.5 %: three workers made 3, 2 and 1 of its labels."""
    organization = factories.make_organization("Paying Client")
    texts = [f"{i}{i}{i}{i}" for i in range(6)]
    project = make_ocr_project(organization, texts, dua_terms={"revenue_share_pct": "12.50"})
    workers = [factories.make_member() for _ in range(3)]
    truth = {f"cap-{i}": t for i, t in enumerate(texts)}
    label_project(project, workers[:1], truth, max_tasks=3)
    label_project(project, workers[1:2], truth, max_tasks=2)
    label_project(project, workers[2:], truth)
    version = registered_version(snapshot_create(actor=steward, name="paid", projects=[project]), promoted=True)
    return organization, version, workers


@pytest.mark.django_db
def test_usage_is_billed_once_and_the_share_credits_contributors_exactly(paid_model, settings):
    organization, version, workers = paid_model
    deposit(organization, "10.00")
    cash_before = client_cash_balance(organization)
    usage = PredictionUsage.objects.create(organization=organization, model_version=version, day=dt.date(2026, 1, 5),
                                           predictions=1003, unit_price=Decimal("0.0010"), revenue_share_pct=Decimal("12.50"))
    amount, share, fee = usage_amounts(usage)
    assert (amount, share, fee) == (Decimal("1.0030"), Decimal("0.1253"), Decimal("0.8777"))

    assert usage_bill_due(today=dt.date(2026, 1, 5)) == {"billed": 0, "unbilled": 0}  # the day is not over
    assert usage_bill_due(today=dt.date(2026, 1, 6)) == {"billed": 1, "unbilled": 0}
    posted = LedgerTransaction.objects.get(kind="dividend")
    entries = {(e.account.kind, e.account.user_id): e.amount for e in posted.entries.select_related("account")}
    credits = [-entries[("worker_earnings", w.pk)] for w in workers]
    assert sum(credits) == share
    # 3:2:1 of 1253 ten-thousandths: floors 626, 417, 208 (remainders 3/6, 4/6, 5/6); the 2 left over go to the two largest.
    assert credits == [Decimal("0.0626"), Decimal("0.0418"), Decimal("0.0209")]
    assert entries[("coop_fees", None)] == -fee and entries[("client_cash", None)] == amount
    assert client_cash_balance(organization) == cash_before - amount
    assert worker_balance(workers[0])["available"] >= Decimal("0.0626")
    assert all(total == 0 for total in trial_balance().values())

    # Retried billing posts nothing twice.
    assert usage_bill(usage_id=usage.pk).pk == posted.pk
    assert usage_bill_due(today=dt.date(2026, 2, 1)) == {"billed": 0, "unbilled": 0}
    assert LedgerTransaction.objects.filter(kind="dividend").count() == 1


@pytest.mark.django_db
def test_usage_the_client_cannot_cover_stays_owed_until_it_deposits(paid_model):
    organization, version, workers = paid_model
    usage = PredictionUsage.objects.create(organization=organization, model_version=version, day=dt.date(2026, 1, 5),
                                           predictions=500_000, unit_price=Decimal("0.0010"), revenue_share_pct=Decimal("12.50"))
    cash = client_cash_balance(organization)
    assert usage_bill_due(today=dt.date(2026, 1, 6)) == {"billed": 0, "unbilled": 1}
    usage.refresh_from_db()
    assert usage.billed_at is None and "insufficient funds" in usage.billing_error
    assert client_cash_balance(organization) == cash and not LedgerTransaction.objects.filter(kind="dividend").exists()
    deposit(organization, "500.00")
    assert usage_bill_due(today=dt.date(2026, 1, 6)) == {"billed": 1, "unbilled": 0}
    usage.refresh_from_db()
    assert usage.billed_at is not None and usage.billing_error == ""
    assert worker_balance(workers[2])["available"] >= Decimal("10.4166")  # 1/6 of 62.5000, rounded down


@pytest.mark.django_db
def test_usage_without_a_revenue_share_is_not_billed(paid_model):
    organization, version, _ = paid_model
    PredictionUsage.objects.create(organization=organization, model_version=version, day=dt.date(2026, 1, 5),
                                   predictions=10, unit_price=Decimal(0), revenue_share_pct=Decimal(0))
    assert usage_bill_due(today=dt.date(2026, 1, 6)) == {"billed": 0, "unbilled": 0}


@pytest.mark.django_db
def test_clients_see_usage_billing_and_the_dividends_they_funded_and_members_see_which_models_used_their_work(paid_model):
    from rest_framework.test import APIClient

    organization, version, workers = paid_model
    deposit(organization, "10.00")
    PredictionUsage.objects.create(organization=organization, model_version=version, day=dt.date(2026, 1, 5),
                                   predictions=1003, unit_price=Decimal("0.0010"), revenue_share_pct=Decimal("12.50"))
    usage_bill_due(today=dt.date(2026, 1, 6))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {factories.org_token(organization)}")
    [row] = client.get("/api/v1/ocr/usage/").json()
    assert (row["day"], row["model"], row["predictions"], row["billed"]) == ("2026-01-05", "captcha", 1003, True)
    assert Decimal(row["amount"]) == Decimal("1.0030") and Decimal(row["dividends_funded"]) == Decimal("0.1253")
    rival = APIClient()
    rival.credentials(HTTP_AUTHORIZATION=f"Bearer {factories.org_token(factories.make_organization('Rival'))}")
    assert rival.get("/api/v1/ocr/usage/").json() == []

    member = APIClient()
    member.force_authenticate(workers[0])
    [work] = member.get("/api/v1/work/models/").json()
    assert work["snapshot"] == version.snapshot_id and work["labels"] == 3
    assert work["models"] == [{"id": version.pk, "name": "captcha", "version": 1, "promoted": True, "retired": False}]
