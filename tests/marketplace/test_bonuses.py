"""Bonuses: a client pays its project's workers more, with a reason they see, through the ledger, once per client key."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from coop.errors import ApplicationError, Conflict
from marketplace.expert import bonuses
from marketplace.expert.models import Bonus, BonusBatch
from marketplace.ledger.models import LedgerTransaction
from marketplace.ledger.selectors import client_cash_balance, trial_balance, worker_balance, worker_statement
from marketplace.pseudonyms import worker_pseudonym
from marketplace.services import claiming, submission
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def worked(organization):
    """A live project where two members each have an accepted answer (overlap 1: one answer is consensus)."""
    project = factories.make_project(organization, tasks=3, overlap=1, max_overlap=1)
    workers = [factories.make_member() for _ in range(2)]
    for worker in workers:
        lease = claiming.work_next(worker=worker, project=project).assignment
        submission.assignment_submit(worker=worker, assignment_id=lease.pk, payload={"text": "abc"}, idempotency_key="k")
    return project, workers


def pseudonym(project, worker):
    return worker_pseudonym(organization_id=project.organization_id, worker_id=worker.pk)


def test_a_bonus_to_all_with_accepted_answers_is_paid_from_client_cash_with_the_fee(organization, worked):
    project, workers = worked
    factories.deposit(organization, "10.00")
    cash = client_cash_balance(organization)
    batch, created = bonuses.bonus_pay(organization=organization, project=project, client_key="thanks-1", amount=D("1.5000"),
                                       reason="Great care on the hard images.", all_accepted=True)
    assert created and batch.bonuses.count() == 2
    assert client_cash_balance(organization) == cash - 2 * D("1.5750")  # 1.50 + 5 % fee each
    for worker in workers:
        assert worker_balance(worker)["available"] == D("0.1000") + D("1.5000")
        rows = worker_statement(worker)["rows"]
        assert any(r["kind"] == "bonus" and "Great care" in r["description"] for r in rows)
        assert worker.notifications.filter(kind="marketplace.bonus").exists()
    assert set(trial_balance().values()) == {D("0.0000")}


def test_adversarial_a_retry_with_the_same_key_pays_once_and_a_changed_request_is_refused(organization, worked):
    project, workers = worked
    factories.deposit(organization, "10.00")
    args = dict(organization=organization, project=project, client_key="k-1", amount=D("1.0000"), reason="For the weekend shift.",
                workers=[pseudonym(project, workers[0])])
    first, _ = bonuses.bonus_pay(**args)
    again, created = bonuses.bonus_pay(**args)
    assert again.pk == first.pk and not created
    assert LedgerTransaction.objects.filter(kind="bonus").count() == 1
    with pytest.raises(Conflict) as reused:
        bonuses.bonus_pay(**{**args, "amount": D("100.0000")})
    assert reused.value.code == "client_key_reused"


def test_adversarial_a_bonus_above_the_clients_cash_writes_nothing(organization, worked):
    project, workers = worked
    factories.deposit(organization, "3.00")
    cash = client_cash_balance(organization)
    assert cash > 0
    with pytest.raises(ApplicationError) as refused:  # each bonus fits, the two with their fees do not
        bonuses.bonus_pay(organization=organization, project=project, client_key="big", amount=(cash / 2).quantize(D("0.0001")), reason="Too generous by far.",
                          all_accepted=True)
    assert refused.value.code == "insufficient_funds"
    assert not BonusBatch.objects.exists() and not LedgerTransaction.objects.filter(kind="bonus").exists()
    assert client_cash_balance(organization) == cash


def test_adversarial_only_workers_of_this_project_and_only_this_clients_project(organization, worked):
    project, workers = worked
    factories.deposit(organization, "10.00")
    outsider = factories.make_member()
    with pytest.raises(ApplicationError) as unknown:
        bonuses.bonus_pay(organization=organization, project=project, client_key="x", amount=D("1"), reason="Not a worker here.",
                          workers=[pseudonym(project, outsider)])
    assert unknown.value.code == "unknown_workers"
    other = factories.make_organization()
    with pytest.raises(ApplicationError):
        bonuses.bonus_pay(organization=other, project=project, client_key="x", amount=D("1"), reason="Not my project.", all_accepted=True)
    for bad in ({"amount": D("0")}, {"amount": 1.5}, {"amount": D("0.00001")}, {"reason": ""}):
        with pytest.raises(ApplicationError):
            bonuses.bonus_pay(**{"organization": organization, "project": project, "client_key": "y", "amount": D("1"),
                                 "reason": "A fine reason.", "all_accepted": True, **bad})
    assert not Bonus.objects.exists()


def test_the_bonus_api_and_what_members_see(organization, org_api, worked, client):
    project, workers = worked
    factories.deposit(organization, "10.00")
    body = {"client_key": "api-1", "amount": "2.00", "reason": "Thank you for the careful work.", "workers": [pseudonym(project, workers[1])]}
    created = org_api.post(f"/api/v1/projects/{project.pk}/bonuses/", body, format="json")
    assert created.status_code == 201 and created.json()["workers"] == [pseudonym(project, workers[1])]
    replay = org_api.post(f"/api/v1/projects/{project.pk}/bonuses/", body, format="json")
    assert replay.status_code == 200 and replay["Idempotent-Replayed"] == "true"
    assert org_api.post(f"/api/v1/projects/{project.pk}/bonuses/", {**body, "client_key": "api-2", "amount": 2.5}, format="json").status_code == 400
    assert org_api.post(f"/api/v1/projects/{project.pk}/bonuses/", {**body, "client_key": "api-3", "amount": "9999"}, format="json").status_code == 422
    client.force_login(workers[1])
    for page in ("/work/earnings/", "/work/records/"):
        html = client.get(page).content.decode()
        assert 'data-testid="bonuses"' in html and "Thank you for the careful work." in html
    from rest_framework.test import APIClient

    api = APIClient()
    api.force_authenticate(workers[1])
    assert api.get("/api/v1/work/bonuses/").json()[0]["amount"] == "2.0000"


def test_bonuses_are_in_the_members_records_download(organization, worked, client):
    import csv
    import io

    project, workers = worked
    factories.deposit(organization, "10.00")
    bonuses.bonus_pay(organization=organization, project=project, client_key="rec-1", amount=D("1.50"), reason="Great accuracy this week.", all_accepted=True)
    client.force_login(workers[0])
    response = client.get("/work/records/", {"download": "bonuses", "format": "csv"})
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [(r["project"], r["amount"], r["reason"]) for r in rows] == [(project.title, "1.5000", "Great accuracy this week.")]
    from rest_framework.test import APIClient

    api = APIClient()
    api.force_authenticate(workers[0])
    listed = b"".join(api.get("/api/v1/work/records/", {"kind": "bonuses", "format": "jsonl"}).streaming_content).decode()
    assert "Great accuracy this week." in listed
    assert api.get("/api/v1/work/records/", {"kind": "everything"}).status_code == 400
