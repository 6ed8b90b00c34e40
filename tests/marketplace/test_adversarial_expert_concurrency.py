"""Expert work under real concurrency (PostgreSQL, real threads): a member gaming the test, a client retrying a bonus."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from marketplace.expert import bonuses, qualifications
from marketplace.expert.models import BonusBatch, QualificationAttempt, QualificationGrant
from marketplace.ledger.models import LedgerTransaction
from marketplace.ledger.selectors import client_cash_balance, worker_balance
from marketplace.services import claiming, submission
from tests import factories
from tests.concurrency import run_threads
from tests.conftest import requires_postgres
from tests.marketplace.expert import RIGHT, answers, make_qualification

pytestmark = [requires_postgres, pytest.mark.django_db(transaction=True)]


def test_adversarial_twelve_parallel_starts_give_one_attempt():
    organization = factories.make_organization()
    qualification = make_qualification(organization)
    member = factories.make_member()
    results, errors = run_threads([lambda: qualifications.attempt_start(member=member, qualification=qualification).pk] * 12)
    assert errors == [] and len(set(results)) == 1
    assert QualificationAttempt.objects.filter(member=member).count() == 1


def test_adversarial_twelve_parallel_submissions_are_paid_and_granted_once():
    organization = factories.make_organization()
    qualification = make_qualification(organization)
    member = factories.make_member()
    attempt = qualifications.attempt_start(member=member, qualification=qualification)
    given = answers(attempt, RIGHT)
    results, errors = run_threads([lambda: qualifications.attempt_submit(member=member, attempt_id=attempt.pk, answers=given).pk] * 12)
    assert errors == [] and set(results) == {attempt.pk}
    assert LedgerTransaction.objects.filter(kind="test_pay").count() == 1
    assert worker_balance(member)["available"] == D("2.0000")
    assert QualificationGrant.objects.filter(member=member).count() == 1


def test_adversarial_parallel_bonuses_never_overdraw_and_one_key_pays_once():
    organization = factories.make_organization()
    project = factories.make_project(organization, tasks=2, overlap=1, max_overlap=1)
    worker = factories.make_member()
    lease = claiming.work_next(worker=worker, project=project).assignment
    submission.assignment_submit(worker=worker, assignment_id=lease.pk, payload={"text": "abc"}, idempotency_key="k")
    factories.deposit(organization, "10.00")
    cash = client_cash_balance(organization)

    def same_key():
        return bonuses.bonus_pay(organization=organization, project=project, client_key="retry", amount=D("1.0000"),
                                 reason="Thanks for the quick work.", all_accepted=True)[0].pk

    results, errors = run_threads([same_key] * 8)
    assert errors == [] and len(set(results)) == 1 and BonusBatch.objects.count() == 1

    def new_key(n):
        return lambda: bonuses.bonus_pay(organization=organization, project=project, client_key=f"k{n}", amount=D("3.0000"),
                                         reason="Thanks for the quick work.", all_accepted=True)

    results, errors = run_threads([new_key(n) for n in range(6)])
    paid = BonusBatch.objects.count() - 1
    assert paid == len(results) and all(getattr(e, "code", "") == "insufficient_funds" for e in errors)
    assert client_cash_balance(organization) == cash - D("1.0500") - paid * D("3.1500") >= 0
