"""Property: whatever happens in the marketplace, the books balance and accepted work is paid exactly once, in full.

Hypothesis drives random sequences of real marketplace events through the real
services (submissions that agree or disagree, steward reviews, rejections,
auto-acceptance, slow measured times that raise the pay, deposits, resumption,
cancellation with leases still live, members finishing those leases, appeals
inside and outside the window, votes on them, time passing, and settlement).
After every step:

* debits equal credits and no account is overdrawn;
* no answer has more than one earning, and none is paid more than the pay per task;
* while a project is live (published), every accepted answer is paid in full
  at the current pay per task; only a paused or closed project may owe;
* escrow covers what a live project still needs, and a cancelled or completed
  project's escrow keeps what live leases, pending answers and appeals and
  still-appealable rejections can cost;
* a closed project (books closed) owes nothing and holds nothing;
* the escrow balance spenders read from their checkpoint equals the sum of the entries.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal as D

import pytest
from django.db import transaction
from django.db.models import Count
from django.test import override_settings
from django.utils import timezone
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from coop.errors import ApplicationError
from marketplace.ledger.models import LedgerAccount, LedgerTransaction
from marketplace.ledger.selectors import account_balance, escrow_balance, from_scaled, paid_by_answer, scaled_sum, trial_balance
from marketplace.ledger.services import lock_account, spendable_balance
from marketplace.models import Answer, Assignment, Project, Task
from marketplace.services import claiming, payment, projects, review, submission
from tests import factories


@pytest.fixture
def cast(steward):
    return {"steward": steward, "organization": factories.make_organization(), "workers": [factories.make_member() for _ in range(4)]}


def _pending(project):
    return list(Answer.objects.filter(task__project=project, status="pending").select_related("task").order_by("pk"))


def apply(step, project, cast):
    name, i, value = step
    workers, steward = cast["workers"], cast["steward"]
    if name == "submit":
        claim = claiming.work_next(worker=workers[i % 4], project=project)
        if claim.assignment is not None:
            submission.assignment_submit(
                worker=workers[i % 4], assignment_id=claim.assignment.pk, payload={"text": value}, idempotency_key=f"k{claim.assignment.pk}"
            )
    elif name in ("accept", "reject"):
        pending = _pending(project)
        if pending:
            answer = pending[i % len(pending)]
            if name == "accept" and answer.task.state == Task.State.REVIEW:
                review.task_review_accept(reviewer=steward, task=answer.task, answer=answer)
            else:
                review.answer_review(
                    reviewer=steward, answer=answer, accept=name == "accept", reason="incorrect", feedback="Looked again: wrong."
                )
    elif name == "auto":
        review.answers_auto_accept_due(now=timezone.now() + timedelta(days=30))
    elif name == "slow":
        Answer.objects.filter(task__project=project, status="accepted").update(active_seconds=12 + 6 * i)
        with override_settings(PAY_REVIEW_MIN_ANSWERS=1):
            payment.project_pay_review(project_id=project.pk)
    elif name == "deposit":
        factories.deposit(cast["organization"], D(i) / 4 + D("0.01"))
    elif name == "resume":
        if Project.objects.get(pk=project.pk).status == "paused":
            try:
                projects.project_publish(project=project)
            except ApplicationError as error:
                assert error.code == "insufficient_funds"
    elif name == "cancel":
        if Project.objects.get(pk=project.pk).status in ("published", "paused"):
            projects.project_cancel(project=project)
    elif name == "settle":
        payment.earnings_settle_due()
        payment.escrow_refund_due()
        projects.project_complete_if_done(project_id=project.pk)
    elif name == "claim":  # a lease held across whatever comes next (a cancel, the end of the project)
        claiming.work_next(worker=workers[i % 4], project=project)
    elif name == "finish":  # members holding leases submit them, in whatever state the project is now
        for lease in Assignment.objects.filter(project=project, state="leased").select_related("worker"):
            try:
                submission.assignment_submit(
                    worker=lease.worker, assignment_id=lease.pk, payload={"text": value}, idempotency_key=f"k{lease.pk}"
                )
            except ApplicationError as error:
                assert error.code in ("lease_ended", "assignment_expired"), error.code
    elif name == "appeal":
        rejected = list(Answer.objects.filter(task__project=project, status="rejected", appeal_status="").order_by("pk"))
        if rejected:
            answer = rejected[i % len(rejected)]
            try:
                review.answer_appeal_file(worker=answer.worker, answer=answer, reason="I typed exactly what the image shows.")
            except ApplicationError as error:
                assert error.code == "appeal_window_closed" and "closed on" in error.message
    elif name == "vote":
        for answer in Answer.objects.filter(task__project=project, appeal_status="pending").order_by("pk"):
            review.answer_appeal_decide(decider=None, answer=answer, overturn=(answer.pk + i) % 2 == 0, note="Decided by vote.")
    elif name == "late":  # time passes: leases run out, appeal windows close
        Answer.objects.filter(task__project=project, decided_at__isnull=False).update(decided_at=timezone.now() - timedelta(days=15))
        Assignment.objects.filter(project=project, state="leased").update(expires_at=timezone.now() - timedelta(seconds=1))
        claiming.leases_reclaim_expired(project_id=project.pk)


def check(project):
    project.refresh_from_db()
    assert set(trial_balance().values()) <= {D(0)}
    for account in LedgerAccount.objects.annotate(raw=scaled_sum("entries__amount")):
        balance = from_scaled(account.raw) * (1 if account.is_debit_normal else -1)
        assert balance >= 0, (account.kind, balance)
    for escrow in LedgerAccount.objects.filter(kind="project_escrow"):  # the spenders' checkpoint agrees with the entries
        assert spendable_balance(lock_account(escrow)) == account_balance(escrow)
    assert not LedgerTransaction.objects.filter(kind="earning").values("answer").annotate(n=Count("id")).filter(n__gt=1).exists()
    accepted = list(Answer.objects.filter(task__project=project, status="accepted").values_list("pk", flat=True))
    paid = paid_by_answer(accepted)
    assert all(amount <= project.pay_per_task for amount in paid.values())
    if project.status == "published":
        assert all(paid.get(pk) == project.pay_per_task for pk in accepted), "a live project owes accepted work"
        need = payment.escrow_required(project)
        assert escrow_balance(project) >= need["required"] - need["owed"]
    if project.status in ("cancelled", "completed"):
        # Escrow keeps what live leases, pending answers and appeals, and still-appealable rejections can cost.
        reserve, _ = payment.closing_reserve(project)
        owed = sum((project.pay_per_task - paid.get(pk, D(0)) for pk in accepted), D(0))
        assert escrow_balance(project) >= reserve + owed, "a closing project cannot pay what it may still owe"
    if project.status == "closed":
        assert all(paid.get(pk) == project.pay_per_task for pk in accepted), "a closed project left accepted work unpaid"
        assert escrow_balance(project) == 0
        assert not Assignment.objects.filter(project=project, state="leased").exists()


STEP = st.tuples(
    st.sampled_from(
        ["submit", "submit", "submit", "submit", "accept", "reject", "reject", "auto", "slow", "deposit", "resume", "cancel", "settle"]
        + ["claim", "finish", "appeal", "vote", "late", "settle"]
    ),
    st.integers(0, 7),
    st.sampled_from(["abc", "abc", "xyz"]),
)


@pytest.mark.django_db
@hypothesis_settings(
    max_examples=25,
    deadline=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],  # no shrinking: each example replays through the database
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    pay=st.sampled_from(["0.0667", "0.1000", "0.1250", "0.3333"]),
    overlap=st.integers(1, 2),
    steps=st.lists(STEP, min_size=4, max_size=30),
)
def test_books_balance_and_accepted_work_is_paid_after_any_sequence(cast, django_capture_on_commit_callbacks, pay, overlap, steps):
    with transaction.atomic():  # each example starts from the same cast, with nothing in the books
        project = factories.make_project(
            cast["organization"], tasks=4, pay_per_task=pay, estimated_seconds=12, overlap=overlap, max_overlap=2
        )
        check(project)
        for step in steps:
            with django_capture_on_commit_callbacks(execute=True):
                apply(step, project, cast)
            check(project)
        transaction.set_rollback(True)
