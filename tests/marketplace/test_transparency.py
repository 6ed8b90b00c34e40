"""Pay transparency from measured time: worked numbers, rates, review time, and the chart."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from marketplace.models import Answer
from marketplace.services import claiming, review, submission
from marketplace.transparency import pay_statistics, percentile
from tests import factories


def test_nearest_rank_percentile():
    values = [Decimal(v) for v in (10, 20, 30, 40, 50, 60, 70, 80, 90, 100)]
    assert percentile(values, 50) == 50 and percentile(values, 10) == 10 and percentile(values, 11) == 20
    assert percentile([Decimal(7)], 10) == 7 and percentile([], 50) is None


@pytest.mark.django_db
def test_statistics_from_measured_active_time(client, organization, steward):
    # Overlap 2 with one answer per task: every answer waits for a steward's review.
    project = factories.make_project(organization, tasks=5, pay_per_task="0.1000", estimated_seconds=12, title="Receipts", overlap=2)
    seconds = [12, 18, 24, 36, 9]
    answers = []
    for i, active in enumerate(seconds):
        worker = factories.make_member()
        lease = claiming.work_next(worker=worker, project=project).assignment
        answer, _ = submission.assignment_submit(worker=worker, assignment_id=lease.pk, payload={"text": f"t{i}"}, idempotency_key="k")
        answers.append(answer)
    # Four answers accepted and one rejected in review; measured time as the labeling page reported it.
    for answer in answers[:4]:
        review.answer_review(reviewer=steward, answer=answer, accept=True)
    review.answer_review(reviewer=steward, answer=answers[4], accept=False, reason="spam", feedback="Random characters.")
    for answer, active in zip(answers, seconds):
        Answer.objects.filter(pk=answer.pk).update(active_seconds=active, decided_at=answer.submitted_at + dt.timedelta(hours=2))
    Answer.objects.filter(pk=answers[4].pk).update(decided_at=timezone.now())

    row = next(r for r in pay_statistics()["projects"] if r["project"].pk == project.pk)
    # Accepted answers: 0.10 per 12, 18, 24, 36 s -> 30.00, 20.00, 15.00, 10.00 USD/h.
    assert row["median_hourly"] == Decimal("15.00") and row["p10_hourly"] == Decimal("10.00")
    assert (row["accepted"], row["rejected"], row["acceptance_rate"], row["rejection_rate"]) == (4, 1, 80.0, 20.0)
    assert row["posted_hourly"] == Decimal("30.00")
    assert row["median_review_hours"] == 2.0

    client.force_login(factories.make_member())
    page = client.get("/work/transparency/").content.decode()
    assert 'data-testid="pay-chart"' in page and "Receipts" in page and "USD 20.00/hour" in page
