"""The datasheet counts each accepted answer once, and only the answers it describes (not gold checks)."""

from decimal import Decimal

import pytest

from marketplace.datasheet import project_datasheet
from marketplace.ledger.models import LedgerTransaction
from marketplace.models import Answer
from marketplace.services import claiming, payment, submission
from tests import factories

pytestmark = pytest.mark.django_db


def _answer_all(project, workers):
    answers = []
    for worker in workers:
        while (lease := claiming.work_next(worker=worker, project=project).assignment) is not None:
            text = "gold" if lease.task.is_gold else f"t{lease.task_id}"
            answers.append(submission.assignment_submit(worker=worker, assignment_id=lease.pk, payload={"text": text},
                                                        idempotency_key=f"k-{lease.pk}")[0])
    return answers


def test_adversarial_topped_up_gold_checks_do_not_inflate_the_share_topped_up(organization, settings):
    """A pay raise tops up every accepted answer, gold checks included; the datasheet describes the data, not the checks."""
    settings.PAY_REVIEW_MIN_ANSWERS = 4
    project = factories.make_project(organization, tasks=8, gold_every=2, gold_ratio="0.3", pay_per_task="0.1000",
                                     estimated_seconds=12, overlap=1, max_overlap=1)
    factories.deposit(organization, "20.00")
    answers = _answer_all(project, [factories.make_member(country="KE") for _ in range(6)])
    Answer.objects.filter(pk__in=[a.pk for a in answers]).update(active_seconds=60)  # 6.00/hour: below the floor
    gold = Answer.objects.filter(task__project=project, task__is_gold=True, status="accepted").count()
    regular = Answer.objects.filter(task__project=project, task__is_gold=False, status="accepted").count()
    assert gold >= 1 and regular >= 1
    assert payment.project_pay_review(project_id=project.pk) is not None
    topped = LedgerTransaction.objects.filter(project=project, kind="top_up").values("answer_id").distinct().count()
    assert topped == gold + regular  # every accepted answer was topped up, gold checks too

    project.refresh_from_db()
    sheet = project_datasheet(project=project)
    assert sheet["accepted_answers"] == regular
    pay = sheet["pay"]
    assert pay["answers_measured"] == regular and pay["answers_paid"] == regular
    assert Decimal(pay["share_topped_up"]) == Decimal(1)
