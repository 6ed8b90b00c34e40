"""Fair pay wired through the marketplace: escrow at publication, pay at every acceptance, measured-pay top-ups, refunds."""

from __future__ import annotations

import threading
from datetime import timedelta
from decimal import Decimal as D

import pytest
from django.db import connection, transaction
from django.utils import timezone

from coop.errors import ApplicationError
from coop.models import Notification
from governance import services as governance
from governance.models import Elector, Proposal
from marketplace.ledger.models import LedgerTransaction
from marketplace.ledger.selectors import client_cash_balance, escrow_balance, project_statement, trial_balance, worker_balance
from marketplace.models import Answer, PayRaise, Project, Task
from marketplace.services import claiming, payment, projects, review, submission
from marketplace.services.review import answers_auto_accept_due
from marketplace.tasks import settle_owed_earnings
from tests import factories
from tests.conftest import requires_postgres

pytestmark = pytest.mark.django_db


def submit(worker, project, value="abc"):
    lease = claiming.work_next(worker=worker, project=project).assignment
    answer, _ = submission.assignment_submit(
        worker=worker, assignment_id=lease.pk, payload=factories.answer_for(project.task_type, value), idempotency_key=f"k{lease.pk}"
    )
    return Answer.objects.get(pk=answer.pk)


def paid(answer) -> D:
    return payment.paid_by_answer([answer.pk]).get(answer.pk, D(0))


def assert_books_balance():
    assert set(trial_balance().values()) <= {D(0)}, trial_balance()


def members_decide(proposal, choice: str):
    for elector in Elector.objects.filter(proposal=proposal).select_related("membership__user"):
        governance.ballot_cast(proposal=proposal, user=elector.membership.user, choice=choice)
    return governance.proposal_close(proposal=proposal, now=proposal.closes_at)


# --- Escrow at publication ------------------------------------------------------------------------


def test_publication_moves_every_planned_answer_plus_fee_into_escrow(organization):
    project = factories.make_project(organization, tasks=4, pay_per_task="0.1000", overlap=1, max_overlap=3, publish=False)
    factories.make_active_dua(organization)
    factories.deposit(organization, "1.00")
    with pytest.raises(ApplicationError) as refused:
        projects.project_publish(project=project)
    # 4 tasks × max overlap 3 = 12 planned answers × (0.10 + 5 % fee) = 1.26.
    assert refused.value.code == "insufficient_funds" and "Deposit at least 0.2600 more" in refused.value.message
    assert Project.objects.get(pk=project.pk).status == "draft" and escrow_balance(project) == 0  # nothing moved

    factories.deposit(organization, "5.00")
    projects.project_publish(project=project)
    assert escrow_balance(project) == D("1.2600") and client_cash_balance(organization) == D("4.7400")
    assert payment.escrow_required(project)["required"] == D("1.2600")
    assert_books_balance()


def test_gold_checks_are_planned_and_importing_into_a_live_project_needs_escrow_too(organization):
    project = factories.make_project(organization, tasks=4, gold_every=2, gold_ratio="0.250", overlap=1, max_overlap=1)
    # 2 regular tasks × 1 + ⌈2 × 0.25 / 0.75⌉ = 1 gold check → 3 planned answers × 0.105.
    assert payment.planned_answers(project) == 3 and escrow_balance(project) == D("0.3150")
    from marketplace.services import importing

    rows = factories.task_rows("ocr", 3, start=100)
    with pytest.raises(ApplicationError) as refused:
        importing.tasks_import(project=project, rows=enumerate(rows, start=1))
    assert refused.value.code == "insufficient_funds" and Task.objects.filter(project=project).count() == 4  # all or nothing
    factories.deposit(organization, "1.00")
    importing.tasks_import(project=project, rows=enumerate(rows, start=1))
    assert escrow_balance(project) == payment.escrow_required(project)["required"] == D("0.7350")  # 5 + ⌈5/3⌉ = 7 answers


# --- Paid at every acceptance ------------------------------------------------------------------------


def test_consensus_pays_every_answer_once_with_the_fee_on_top(organization):
    project = factories.make_project(organization, tasks=1, pay_per_task="0.1250", overlap=2, max_overlap=2)
    first, second = factories.make_member(), factories.make_member()
    a = submit(first, project, "abc")
    assert a.status == "pending" and paid(a) == 0
    b = submit(second, project, "abc")
    a.refresh_from_db()
    assert (a.status, b.status) == ("accepted", "accepted") and paid(a) == paid(b) == D("0.1250")
    assert worker_balance(first)["available"] == D("0.1250")
    # Escrow held 2 × (0.1250 + a fee of 0.00625 rounded half-up to 0.0063); both payments spent it exactly.
    assert LedgerTransaction.objects.filter(kind="earning", project=project).count() == 2 and escrow_balance(project) == 0
    assert project_statement(project)["totals"]["fees"] == "0.0126"
    assert payment.answers_pay([a.pk, b.pk]) == 0  # paying again posts nothing
    assert_books_balance()


def test_review_gold_appeal_and_auto_accept_each_pay(organization, steward):
    project = factories.make_project(organization, tasks=4, gold_every=4, gold_ratio="0.500", overlap=2, max_overlap=2)
    workers = [factories.make_member() for _ in range(4)]
    # Gold: a worker's second claim is the gold check, paid at once.
    submit(workers[0], project, "nope")
    gold = submit(workers[0], project, "t0")
    assert Task.objects.get(pk=gold.task_id).is_gold and gold.status == "accepted" and paid(gold) == D("0.1000")

    # Disagreement at max overlap → review; the steward picks one answer, which is paid.
    x = submit(workers[1], project, "xyz")
    y = Answer.objects.filter(task=x.task, worker=workers[0]).first() or submit(workers[2], project, "abc")
    task = Task.objects.get(pk=x.task_id)
    assert task.state == "review"
    review.task_review_accept(reviewer=steward, task=task, answer=x)
    assert paid(Answer.objects.get(pk=x.pk)) == D("0.1000") and paid(y) == 0

    # The other answer is rejected, appealed, and the members overturn the rejection: then it is paid.
    review.answer_review(reviewer=steward, answer=y, accept=False, reason="incorrect", feedback="The letters are x, y and z.")
    review.answer_appeal_file(worker=y.worker, answer=y, reason="The image really shows abc, please look again.")
    appeal = Proposal.objects.get(kind="appeal")
    members_decide(appeal, "yes")
    assert Answer.objects.get(pk=y.pk).status == "accepted" and paid(y) == D("0.1000")

    # An answer nobody reviews is accepted, and paid, after the review period.
    lone = submit(workers[3], project, "abc")
    assert lone.status == "pending"
    later = timezone.now() + timedelta(hours=project.review_period_hours + 1)
    assert answers_auto_accept_due(now=later) >= 1
    assert paid(lone) == D("0.1000")
    with pytest.raises(Exception) as clawback:
        review.answer_review(reviewer=steward, answer=lone, accept=False, reason="incorrect", feedback="Changed my mind here.")
    assert getattr(clawback.value, "code", "") == "already_accepted"
    assert_books_balance()


def test_accepted_work_stays_owed_when_escrow_is_short_and_is_paid_after_funding(
    organization, client_user, member, django_capture_on_commit_callbacks
):
    project = factories.make_project(organization, tasks=2, overlap=1, max_overlap=1)
    # Simulate a shortfall (e.g. a correction drained escrow): spend the project's escrow elsewhere.
    from marketplace.ledger.services import account_for, ledger_post

    escrow = account_for(kind="project_escrow", project=project)
    cash = account_for(kind="client_cash", organization=organization)
    ledger_post(event_key="test:drain", kind="correction", entries=[(escrow, escrow_balance(project)), (cash, -escrow_balance(project))])

    with django_capture_on_commit_callbacks(execute=True):  # the pause runs after the accepting transaction commits
        answer = submit(member, project)
    assert answer.status == "accepted" and paid(answer) == 0  # the acceptance stands; the pay is owed
    project.refresh_from_db()
    assert project.status == "paused" and "Escrow cannot pay" in project.status_reason
    assert Notification.objects.filter(user__organization=organization, kind="project.escrow_short").exists()

    projects.project_publish(project=project)  # resuming pays owed work first (the client's cash covers it)
    assert paid(answer) == D("0.1000") and Project.objects.get(pk=project.pk).status == "published"
    settle_owed_earnings()  # and the periodic settlement finds nothing more to do
    assert LedgerTransaction.objects.filter(answer=answer).count() == 1
    assert_books_balance()


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_retries_of_one_acceptance_pay_once():
    organization = factories.make_organization()
    project = factories.make_project(organization, tasks=1, overlap=1, max_overlap=1)
    worker = factories.make_member()
    answer = submit(worker, project)
    barrier, errors = threading.Barrier(8), []

    def retry():
        try:
            barrier.wait()
            with transaction.atomic():  # as in every accepting transaction
                payment.answers_pay([answer.pk])
            payment.earnings_settle_due()
        except Exception as exc:  # noqa: BLE001 - asserted below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=retry) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == [] and LedgerTransaction.objects.filter(answer=answer).count() == 1 and paid(answer) == D("0.1000")
    assert_books_balance()


# --- Measured pay ------------------------------------------------------------------------------


def _slow_project(organization, *, tasks=10, deposit_extra="0"):
    # 0.10 per task of 12 s = 30.00/hour on paper.
    project = factories.make_project(organization, tasks=tasks, pay_per_task="0.1000", estimated_seconds=12, overlap=1, max_overlap=1)
    if deposit_extra != "0":
        factories.deposit(organization, deposit_extra)
    answers = [submit(factories.make_member(), project) for _ in range(tasks)]
    # The labeling page measured 30 s (one outlier of 7 hours is capped at the lease and cannot move the median).
    Answer.objects.filter(pk__in=[a.pk for a in answers]).update(active_seconds=30)
    Answer.objects.filter(pk=answers[0].pk).update(active_seconds=7 * 3600)
    return project, answers


def test_slow_measured_time_raises_pay_and_tops_up_accepted_work(client, organization, client_user, settings):
    settings.PAY_REVIEW_MIN_ANSWERS = 10
    project, answers = _slow_project(organization, tasks=12, deposit_extra="5.00")
    assert payment.measured_seconds(project) == (30, 12)
    raise_ = payment.project_pay_review(project_id=project.pk)
    # 0.10 per 30 s = 12.00/hour < 20.00 → the smallest rate meeting the floor at 30 s is 0.1667.
    assert (raise_.old_pay_per_task, raise_.new_pay_per_task, raise_.measured_hourly_pay) == (D("0.1000"), D("0.1667"), D("12.00"))
    project.refresh_from_db()
    assert project.pay_per_task == D("0.1667") and project.status == "published"
    assert all(paid(a) == D("0.1667") for a in answers)
    assert LedgerTransaction.objects.filter(kind="top_up", project=project).count() == 12
    assert Notification.objects.filter(kind="project.pay_raised", user__organization=organization).exists()
    # Escrow still covers the rest of the project at the new rate, and reviewing again changes nothing.
    assert escrow_balance(project) >= payment.escrow_required(project)["required"]
    assert payment.project_pay_review(project_id=project.pk) is None and PayRaise.objects.count() == 1
    assert_books_balance()
    client.force_login(factories.make_member())  # members see why the pay changed
    page = client.get(f"/work/projects/{project.pk}/").content.decode()
    assert 'data-testid="pay-raise"' in page and "from 0.1000\n  to 0.1667 per task" in page and "12.00/hour" in page
    # The posted hourly pay now uses the measured time, and says so: 0.1667 per 30 s, not per the client's 12 s.
    project.refresh_from_db()
    assert (project.estimated_seconds, project.time_measured, project.effective_hourly_pay) == (30, True, D("20.00"))
    assert "about 30 s (members' measured median" in page and "USD 20.00/hour" in page


def test_a_raise_escrow_cannot_cover_pauses_the_project_until_the_client_pays(
    organization, settings, django_capture_on_commit_callbacks
):
    settings.PAY_REVIEW_MIN_ANSWERS = 10
    project, answers = _slow_project(organization, tasks=10)  # funded exactly for 0.10 per answer, no spare cash
    with django_capture_on_commit_callbacks(execute=True):
        payment.project_pay_review(project_id=project.pk)
    project.refresh_from_db()
    assert project.status == "paused" and "deposit funds" in project.status_reason
    assert project.pay_per_task == D("0.1667")
    # Work was all done, so the planned escrow is spent and top-ups wait for money.
    assert sum(paid(a) for a in answers) == D("1.0000")
    factories.deposit(organization, "1.00")
    projects.project_publish(project=project)
    assert all(paid(a) == D("0.1667") for a in answers)
    assert_books_balance()


def test_too_few_timed_answers_change_nothing(organization, settings):
    settings.PAY_REVIEW_MIN_ANSWERS = 20
    project, _ = _slow_project(organization, tasks=10)
    assert payment.measured_seconds(project) == (None, 10) and payment.project_pay_review(project_id=project.pk) is None


# --- Closing the books ----------------------------------------------------------------------------


def test_unspent_escrow_returns_to_the_client_when_the_project_ends(organization, dramatiq_worker):
    project = factories.make_project(organization, tasks=2, overlap=1, max_overlap=3)
    cash_before = client_cash_balance(organization)
    for _ in range(2):
        submit(factories.make_member(), project)
    from tests.conftest import join_queues

    join_queues()
    project.refresh_from_db()
    assert project.status == "closed"  # books closed: nothing pending, nothing appealable, escrow refunded
    assert escrow_balance(project) == 0
    # 6 planned answers were funded, 2 were paid: the other 4 (with their fees) came back.
    assert client_cash_balance(organization) - cash_before == 4 * D("0.1050")
    assert_books_balance()


def test_cancelling_keeps_escrow_for_pending_answers(organization, steward):
    project = factories.make_project(organization, tasks=2, overlap=2, max_overlap=2)
    pending = submit(factories.make_member(), project)
    projects.project_cancel(project=project)
    payment.escrow_refund_due()
    assert escrow_balance(project) > 0  # a pending answer may still be accepted and paid
    review.answer_review(reviewer=steward, answer=pending, accept=True)
    payment.escrow_refund_due()
    assert paid(pending) == D("0.1000") and escrow_balance(project) == 0
    assert_books_balance()


def test_a_client_cannot_cancel_away_owed_work(organization, settings, django_capture_on_commit_callbacks):
    settings.PAY_REVIEW_MIN_ANSWERS = 10
    project, answers = _slow_project(organization, tasks=10)  # the raise leaves top-ups owed and the project paused
    with django_capture_on_commit_callbacks(execute=True):
        payment.project_pay_review(project_id=project.pk)
    with pytest.raises(ApplicationError) as refused:
        projects.project_cancel(project=project)
    assert refused.value.code == "insufficient_funds" and Project.objects.get(pk=project.pk).status == "paused"
    factories.deposit(organization, "0.70")  # 10 top-ups of 0.0667 + fees
    projects.project_cancel(project=project)
    payment.escrow_refund_due()
    assert all(paid(a) == D("0.1667") for a in answers) and escrow_balance(project) == 0
    assert_books_balance()
