"""The client's money API: balance, deposits (stewards), escrow and per-project statements. Workers appear only as pseudonyms."""

from __future__ import annotations

import csv
import io
import re
from decimal import Decimal as D

import pytest
from rest_framework.test import APIClient

from coop import services as coop_services
from marketplace.ledger import selectors, services
from marketplace.ledger.models import LedgerTransaction
from marketplace.pseudonyms import worker_pseudonym
from marketplace.services import projects
from tests import factories
from tests.marketplace.money import answer, assert_books_balance, fee_rate, funded_project, pay

pytestmark = pytest.mark.django_db
PSEUDONYM = re.compile(r"w_[0-9a-f]{16}")


def _as(user) -> APIClient:
    api = APIClient()
    api.force_authenticate(user)
    return api


def _with_token(organization) -> APIClient:
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {factories.org_token(organization)}")
    return api


@pytest.fixture
def workers(db):
    return [factories.make_member(f"worker{i}@people.example", display_name=f"Worker Person {i}") for i in range(2)]


@pytest.fixture
def worked(organization, steward, workers):
    """Acme's project with escrow, three paid answers by two workers and one top-up."""
    project = funded_project(organization, steward, pay="0.3125", seconds=45, tasks=4, escrow="20.00")
    paid = [answer(project, w, active_seconds=30) for w in (workers[0], workers[1], workers[0])]
    for a in paid:
        pay(a)
    services.top_up_post(answer=paid[1], amount=D("0.0500"), fee_rate=fee_rate(), event_key="test-top-up:client")
    return project


# --- Balance ------------------------------------------------------------------------------------------


def test_client_sees_its_cash_escrow_per_project_and_deposits(organization, org_api, worked):
    other = factories.make_organization("Other Corp")
    other_project = factories.make_project(other, task_type="classification", publish=False, title="Not yours")
    body = org_api.get("/api/v1/organizations/me/balance/").json()
    assert body["organization"] == organization.slug
    usd = next(b for b in body["balances"] if b["currency"] == "USD")
    assert D(usd["cash"]) == selectors.client_cash_balance(organization)
    assert D(usd["escrow"]) == selectors.escrow_balance(worked)
    assert [(p["id"], D(p["escrow"])) for p in body["projects"]] == [(worked.pk, selectors.escrow_balance(worked))]
    assert other_project.pk not in [p["id"] for p in body["projects"]]
    assert [(d["reference"], d["amount"]) for d in body["deposits"]] == [(f"BANK-P{worked.pk}", "1000.0000")]

    client_user = factories.make_client_user(organization)
    assert _as(client_user).get("/api/v1/organizations/me/balance/").json() == body
    assert _with_token(other).get("/api/v1/organizations/me/balance/").json()["projects"] == [
        {"id": other_project.pk, "title": "Not yours", "status": "draft", "currency": "USD", "escrow": "0.0000"}
    ]
    assert _as(factories.make_member()).get("/api/v1/organizations/me/balance/").status_code == 403
    assert APIClient().get("/api/v1/organizations/me/balance/").status_code in (401, 403)


# --- Deposits -----------------------------------------------------------------------------------------


def test_steward_records_a_deposit_once_by_reference(organization, steward):
    token = coop_services.api_token_create(actor=steward, user=steward, name="treasurer").plaintext
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    url = f"/api/v1/organizations/{organization.slug}/deposits/"
    first = api.post(url, {"amount": "250.10", "reference": "WIRE-77", "currency": "USD"}, format="json")
    assert first.status_code == 201, first.content
    assert (first.json()["amount"], first.json()["cash_balance"], first.json()["organization"]) == ("250.1000", "250.1000", organization.slug)
    replay = api.post(url, {"amount": "250.1", "reference": " WIRE-77 "}, format="json")
    assert replay.status_code == 200 and replay["Idempotent-Replayed"] == "true" and replay.json()["id"] == first.json()["id"]
    conflict = api.post(url, {"amount": "250.00", "reference": "WIRE-77"}, format="json")
    assert conflict.status_code == 409 and conflict.json()["error"]["code"] == "event_conflict"
    by_id = api.post(f"/api/v1/organizations/{organization.pk}/deposits/", {"amount": 100, "reference": "WIRE-78"}, format="json")
    assert by_id.status_code == 201 and by_id.json()["cash_balance"] == "350.1000"
    assert selectors.client_cash_balance(organization) == D("350.10")
    assert LedgerTransaction.objects.filter(kind="deposit").count() == 2
    assert api.post("/api/v1/organizations/nobody/deposits/", {"amount": "1", "reference": "R"}, format="json").status_code == 404
    assert_books_balance()


@pytest.mark.parametrize(
    "amount, message",
    [
        (250.5, "Send the amount as a string"),
        (0.1, "Send the amount as a string"),
        ("1.23456", "at most 4 decimal places"),
        ("-5.00", "positive decimal number"),
        ("1e3", "positive decimal number"),
        ("NaN", "positive decimal number"),
        ("100000000000", "positive decimal number"),
        ("0.0000", "more than zero"),
        (True, "positive decimal number"),
        ({"value": "1"}, "positive decimal number"),
    ],
)
def test_deposit_amounts_must_be_exact_decimal_strings(organization, steward, amount, message):
    response = _as(steward).post(
        f"/api/v1/organizations/{organization.slug}/deposits/", {"amount": amount, "reference": "R-1"}, format="json"
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid" and message in error["fields"]["amount"][0]
    assert not LedgerTransaction.objects.exists()


def test_only_stewards_record_deposits(organization, org_api, client_user, member):
    url = f"/api/v1/organizations/{organization.slug}/deposits/"
    body = {"amount": "10.00", "reference": "SELF-SERVICE"}
    for api in (org_api, _as(client_user), _as(member), APIClient()):
        response = api.post(url, body, format="json")
        assert response.status_code in (401, 403) and "error" in response.json()
    assert not LedgerTransaction.objects.exists()


# --- Escrow and statement -------------------------------------------------------------------------------


def test_escrow_shows_committed_spent_and_refunded(organization, org_api, worked, steward):
    url = f"/api/v1/projects/{worked.pk}/escrow/"
    before = org_api.get(url).json()
    spent = 3 * D("0.3125") + D("0.05")
    fees = sum((services.fee_for(amount, fee_rate()) for amount in (D("0.3125"),) * 3 + (D("0.05"),)), D(0))
    assert D(before["earnings"]) == 3 * D("0.3125") and D(before["top_ups"]) == D("0.05") and D(before["fees"]) == fees
    assert D(before["spent"]) == spent + fees
    assert D(before["balance"]) == selectors.escrow_balance(worked) == D(before["committed"]) - D(before["spent"])

    services.escrow_fund(project=worked, amount=D("5.00"), event_key="test-fund:more")
    after = org_api.get(url).json()
    assert D(after["committed"]) - D(before["committed"]) == D("5.00") and after["spent"] == before["spent"]

    projects.project_cancel(project=worked)
    services.escrow_refund(project=worked)
    closed = org_api.get(url).json()
    assert D(closed["balance"]) == 0 and D(closed["refunded"]) == D(after["balance"])
    statement = org_api.get(f"/api/v1/projects/{worked.pk}/statement/").json()["totals"]
    assert (statement["funded"], statement["refunded"], statement["fees"]) == (closed["committed"], closed["refunded"], closed["fees"])
    assert_books_balance()


def test_statement_names_workers_only_by_pseudonym_in_json_and_csv(organization, org_api, worked, workers):
    response = org_api.get(f"/api/v1/projects/{worked.pk}/statement/")
    assert response.status_code == 200
    body = response.json()
    payments = [r for r in body["rows"] if r["kind"] in ("earning", "top_up")]
    assert len(payments) == 4
    expected = {worker_pseudonym(organization_id=organization.pk, worker_id=w.pk) for w in workers}
    assert {r["worker"] for r in payments} == expected and all(PSEUDONYM.fullmatch(r["worker"]) for r in payments)
    assert all(r["task_external_id"].startswith("txt-") for r in payments)
    for row in body["rows"]:
        assert set(row) == set(selectors.CLIENT_STATEMENT_FIELDS)
    assert D(body["totals"]["escrow_balance"]) == selectors.escrow_balance(worked)

    text = _download(org_api.get(f"/api/v1/projects/{worked.pk}/statement/", {"format": "csv"}))
    table = list(csv.DictReader(io.StringIO(text)))
    assert table == [{k: str(row[k]) for k in selectors.CLIENT_STATEMENT_FIELDS} for row in body["rows"]]
    for shown in (response.content.decode(), text):
        for w in workers:
            assert w.email not in shown and w.display_name not in shown
            assert f'"worker":{w.pk}' not in shown.replace(" ", "") and ":answer:" not in shown
    bad = org_api.get(f"/api/v1/projects/{worked.pk}/statement/", {"format": "xml"})
    assert bad.status_code == 400 and bad.json()["error"]["fields"] == {"format": ["json or csv"]}


def test_a_client_never_sees_another_organizations_escrow_or_statement(worked, workers):
    outsider = _with_token(factories.make_organization("Snoop Inc"))
    for path in ("escrow", "statement"):
        response = outsider.get(f"/api/v1/projects/{worked.pk}/{path}/")
        assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"
        assert _as(workers[0]).get(f"/api/v1/projects/{worked.pk}/{path}/").status_code == 403


def _download(response) -> str:
    assert response.status_code == 200, response.content
    return b"".join(response.streaming_content).decode()
