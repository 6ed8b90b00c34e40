"""Rate-cut protection on content and work, not on labels the client chooses (issue 11, item 3)."""

from decimal import Decimal as D

import pytest

from governance.models import Proposal
from marketplace.services import importing, projects
from marketplace.services.relaunch import earlier_rate, relaunch_similarity
from tests import factories

pytestmark = pytest.mark.django_db

BRIEF = "Is this product review positive, negative or neutral? Read all of it before you choose; sarcasm counts as negative."


@pytest.fixture
def electorate():
    return [factories.make_member() for _ in range(3)]


def _classification(organization, *, pay, choices, rows, publish, seconds=12, instructions=BRIEF):
    made = factories.make_project(
        organization, task_type="classification", tasks=0, publish=False, pay_per_task=pay, estimated_seconds=seconds,
        instructions=instructions, choices=choices,
    )
    importing.tasks_import(project=made, rows=enumerate(rows, start=1))
    factories.make_active_dua(organization)
    factories.fund_project(made)
    return projects.project_publish(project=made) if publish else made


def _rows(prefix, texts, field="text"):
    return [{"external_id": f"{prefix}-{i}", "data": {field: text}} for i, text in enumerate(texts)]


TEXTS = [f"Review {i}: the blender broke after a week." for i in range(6)]


def test_adversarial_renamed_and_reordered_choices_do_not_hide_a_cut(organization, electorate):
    _classification(organization, pay="0.1000", choices=["positive", "negative", "neutral"], rows=_rows("a", TEXTS), publish=True)
    cheaper = _classification(
        organization, pay="0.0800", choices=["NEG", "NEUTRAL", "POS"], rows=_rows("b", [t + " Different item." for t in TEXTS]),
        publish=False,
    )
    assert projects.project_publish(project=cheaper).status == "held"
    assert Proposal.objects.filter(kind="rate_cut_relaunch").count() == 1


def test_adversarial_the_same_items_under_new_ids_are_found_by_content(organization, electorate):
    earlier = _classification(organization, pay="0.1000", choices=["pos", "neg", "neutral"], rows=_rows("a", TEXTS), publish=True)
    # Another answer space (two choices) and new external ids: only the content is the same.
    cheaper = _classification(organization, pay="0.0800", choices=["good", "bad"], rows=_rows("zz", TEXTS), publish=False)
    similarity = relaunch_similarity(cheaper, earlier)
    assert (similarity["same_answer_space"], similarity["content_overlap"], similarity["near_identical"]) == (False, 1.0, True)
    assert projects.project_publish(project=cheaper).status == "held"


def test_adversarial_a_shorter_time_estimate_does_not_hide_a_lower_pay_per_task(organization, electorate):
    _classification(organization, pay="0.1000", choices=["pos", "neg", "neutral"], rows=_rows("a", TEXTS), publish=True, seconds=12)
    # 0.09 per task "in 6 s" posts 54.00/hour against 30.00/hour: but it is the same work for less money.
    cheaper = _classification(
        organization, pay="0.0900", choices=["pos", "neg", "neutral"], rows=_rows("b", TEXTS), publish=False, seconds=6
    )
    assert cheaper.effective_hourly_pay > D("30.00")
    held = projects.project_publish(project=cheaper)
    assert held.status == "held" and "10.0% less" in held.status_reason


def test_a_different_brief_over_different_items_still_publishes(organization, electorate):
    _classification(organization, pay="0.1000", choices=["pos", "neg", "neutral"], rows=_rows("a", TEXTS), publish=True)
    other = _classification(
        organization, pay="0.0800", choices=["spam", "ham"], rows=_rows("b", ["Buy now!!!", "Meeting at 3"]), publish=False,
        instructions="Is this email spam? Spam is unsolicited bulk advertising; newsletters you signed up for are not spam.",
    )
    assert projects.project_publish(project=other).status == "published"


def test_the_earlier_rate_is_measured_when_members_measured_it(organization, settings):
    from marketplace.models import Answer

    settings.PAY_REVIEW_MIN_ANSWERS = 3
    earlier = _classification(organization, pay="0.1000", choices=["pos", "neg", "neutral"], rows=_rows("a", TEXTS), publish=True)
    assert earlier_rate(earlier) == (D("30.00"), "estimated by the client at 12 s per task")
    workers = [factories.make_member() for _ in range(3)]
    from marketplace.services import claiming, submission

    for worker in workers:
        lease = claiming.work_next(worker=worker, project=earlier).assignment
        answer = submission.assignment_submit(worker=worker, assignment_id=lease.pk, payload={"choice": "pos"}, idempotency_key="k")[0]
        Answer.objects.filter(pk=answer.pk).update(active_seconds=24)
    rate, basis = earlier_rate(earlier)
    assert Answer.objects.filter(task__project=earlier, status="accepted").count() == 3
    assert rate == D("15.00") and basis.startswith("measured: a median of 24 s")


def test_content_hash_ignores_ids_and_field_names_but_not_content():
    from marketplace.task_types import task_content_hash

    assert task_content_hash({"text": "A"}) == task_content_hash({"body": "A"})
    assert task_content_hash({"text": "A"}) != task_content_hash({"text": "B"})
    assert task_content_hash({}, b"png-1") != task_content_hash({}, b"png-2")
