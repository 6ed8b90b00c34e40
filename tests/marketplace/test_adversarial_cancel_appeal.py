"""No accepted work is ever unpaid, tried as a client who cancels or closes at the worst moment.

Cancelling lets live leases finish and be paid; refunds keep back what
still-appealable rejections could cost; an appeal after the window is refused
with its date; answers go only to projects whose state takes them.
"""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from coop.errors import ApplicationError
from marketplace.ledger.models import LedgerTransaction
from marketplace.ledger.selectors import escrow_balance
from marketplace.models import Answer, Assignment, Project
from marketplace.services import claiming, payment, projects, review, submission
from tests import factories

pytestmark = pytest.mark.django_db


def _submit(worker, lease, text="abc"):
    return submission.assignment_submit(worker=worker, assignment_id=lease.pk, payload={"text": text}, idempotency_key=f"k{lease.pk}")[0]


def test_adversarial_cancelling_mid_lease_still_pays_the_member_who_finishes():
    project = factories.make_project(tasks=3)
    member = factories.make_member()
    lease = claiming.work_next(worker=member, project=project).assignment
    projects.project_cancel(project=project)
    # The client's cancel came first; the refund job runs before the member submits: nothing is refunded yet.
    assert payment.project_close_books(project_id=project.pk) is False
    assert not LedgerTransaction.objects.filter(kind="refund", project=project).exists()
    answer = _submit(member, lease)
    assert Answer.objects.get(pk=answer.pk).status == "accepted"
    earning = LedgerTransaction.objects.get(kind="earning", answer=answer)
    assert earning.entries.filter(account__kind="worker_earnings").exists()
    # Only now do the books close: paid, refunded, closed.
    assert payment.project_close_books(project_id=project.pk) is True
    closed = Project.objects.get(pk=project.pk)
    assert closed.status == "closed" and escrow_balance(closed) == Decimal(0)


def test_adversarial_a_cancelled_projects_lease_cannot_be_kept_alive_by_heartbeats():
    project = factories.make_project(tasks=3)
    member = factories.make_member()
    lease = claiming.work_next(worker=member, project=project).assignment
    projects.project_cancel(project=project)
    ends = Assignment.objects.get(pk=lease.pk).expires_at
    claiming.assignment_heartbeat(worker=member, assignment_id=lease.pk, active_seconds=5)
    assert Assignment.objects.get(pk=lease.pk).expires_at == ends
    Assignment.objects.filter(pk=lease.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    with pytest.raises(ApplicationError) as refused:
        _submit(member, lease)
    assert refused.value.code == "lease_ended" and "UTC" in refused.value.message
    # And the cancelled project hands out no new leases.
    assert claiming.work_next(worker=factories.make_member(), project=project).reason == "project_cancelled"


def test_adversarial_no_answer_lands_in_a_project_that_takes_none():
    project = factories.make_project(tasks=3)
    member = factories.make_member()
    lease = claiming.work_next(worker=member, project=project).assignment
    Project.objects.filter(pk=project.pk).update(status="closed")  # books closed: its escrow is gone
    with pytest.raises(ApplicationError) as refused:
        _submit(member, lease)
    assert refused.value.code == "project_closed"
    assert not Answer.objects.filter(assignment=lease).exists()


def _rejected(project, steward):
    member = factories.make_member()
    lease = claiming.work_next(worker=member, project=project).assignment
    answer = _submit(member, lease)
    Answer.objects.filter(pk=answer.pk).update(status="pending")  # overlap 1 accepts at once; a steward reviews instead
    return review.answer_review(reviewer=steward, answer=answer, accept=False, reason="incorrect", feedback="The image says 'abd'.")


def test_adversarial_the_refund_keeps_back_what_an_appeal_inside_the_window_could_cost(steward):
    project = factories.make_project(tasks=3)
    answer = _rejected(project, steward)
    projects.project_cancel(project=project)
    reserve, count = payment.closing_reserve(project)
    assert count == 1 and reserve == Decimal("0.1050")  # 0.10 + the 5 % fee
    assert payment.project_close_books(project_id=project.pk) is True
    assert escrow_balance(project) == reserve
    assert Project.objects.get(pk=project.pk).status == "cancelled"  # not closed while an appeal may come
    # Day 13: the worker appeals, the members overturn; the pay is there.
    review.answer_appeal_file(worker=answer.worker, answer=answer, reason="It really says 'abc', look at the third letter.")
    review.answer_appeal_decide(decider=None, answer=answer, overturn=True, note="Upheld.")
    assert LedgerTransaction.objects.filter(kind="earning", answer=answer).count() == 1
    payment.project_close_books(project_id=project.pk)
    closed = Project.objects.get(pk=project.pk)
    assert closed.status == "closed" and escrow_balance(closed) == Decimal(0)


def test_adversarial_an_appeal_after_the_window_is_refused_with_the_date(steward):
    project = factories.make_project(tasks=3)
    answer = _rejected(project, steward)
    decided = timezone.now() - timedelta(days=14, minutes=1)
    Answer.objects.filter(pk=answer.pk).update(decided_at=decided)
    with pytest.raises(ApplicationError) as refused:
        review.answer_appeal_file(worker=answer.worker, answer=Answer.objects.get(pk=answer.pk), reason="Late, but I was right.")
    closes = decided + timedelta(days=14)
    assert refused.value.code == "appeal_window_closed"
    assert f"{closes:%Y-%m-%d %H:%M}" in refused.value.message and refused.value.extra["appeal_window_closed_at"] == closes.isoformat()
    # With the window past, the refund returns everything and the books close.
    projects.project_cancel(project=project)
    assert payment.closing_reserve(project) == (Decimal("0.0000"), 0)
    payment.project_close_books(project_id=project.pk)
    assert Project.objects.get(pk=project.pk).status == "closed"
