"""Conflicts of interest in review, and what the labeling page shows, tried by an overreaching steward or a curious member."""

import pytest

from coop.errors import Forbidden
from marketplace.models import Answer, Project
from marketplace.services import claiming, projects, review, submission
from tests import factories

pytestmark = pytest.mark.django_db


def _answer(worker, project, text):
    lease = claiming.work_next(worker=worker, project=project).assignment
    return submission.assignment_submit(worker=worker, assignment_id=lease.pk, payload={"text": text}, idempotency_key=f"k{lease.pk}")[0]


def test_adversarial_a_steward_cannot_review_a_task_they_answered(steward):
    project = factories.make_project(tasks=1, overlap=2, max_overlap=2, agreement_target="0.9")
    rival = factories.make_member()
    own = _answer(steward, project, "mine")
    other = _answer(rival, project, "theirs")  # disagreement: the task goes to review
    assert Answer.objects.get(pk=own.pk).task.state == "review"
    # Picking their own answer as the label, or rejecting the rival's, is refused.
    with pytest.raises(Forbidden) as own_pick:
        review.task_review_accept(reviewer=steward, task=own.task, answer=own)
    assert own_pick.value.code == "conflict_of_interest"
    with pytest.raises(Forbidden):
        review.answer_review(reviewer=steward, answer=other, accept=False, reason="incorrect", feedback="Clearly not what it says.")
    assert Answer.objects.get(pk=other.pk).status == "pending"
    # Another steward may.
    label = review.task_review_accept(reviewer=factories.make_steward(), task=other.task, answer=other)
    assert label.value == "theirs"


@pytest.mark.parametrize("status", ["draft", "paused", "cancelled", "held", "closed"])
def test_adversarial_the_labeling_page_never_shows_a_project_that_is_not_published(client, member, status):
    project = factories.make_project(tasks=1, publish=False, instructions="Secret draft instructions of the client.")
    Project.objects.filter(pk=project.pk).update(status=status)
    client.force_login(member)
    response = client.get(f"/work/projects/{project.pk}/label/")
    assert response.status_code == 404
    assert b"Secret draft instructions" not in response.content


def test_the_labeling_page_shows_a_published_project(client, member):
    project = factories.make_project(tasks=1, instructions="Type what you see, letter by letter.")
    client.force_login(member)
    response = client.get(f"/work/projects/{project.pk}/label/")
    assert response.status_code == 200 and b"letter by letter" in response.content
    projects.project_pause(project=project)
    assert client.get(f"/work/projects/{project.pk}/label/").status_code == 404
