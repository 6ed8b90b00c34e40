"""The review queue shows the reviewer the task itself, and accepting is one click beside rejecting."""

import pytest

from marketplace.models import Answer
from marketplace.services import claiming, submission
from tests import factories

pytestmark = pytest.mark.django_db


def _answer(project, worker, text):
    lease = claiming.work_next(worker=worker, project=project).assignment
    return submission.assignment_submit(worker=worker, assignment_id=lease.pk, payload={"text": text}, idempotency_key="k")[0]


def test_reviewer_sees_the_task_image_and_accepts_beside_reject(client, steward, organization):
    project = factories.make_project(organization, tasks=1, overlap=2, max_overlap=2, agreement_target="0.9")
    answer = _answer(project, factories.make_member(), "4821")  # one of two answers: waiting for more
    client.force_login(steward)
    page = client.get("/review/").content.decode()
    assert f'/review/tasks/{answer.task_id}/image/' in page and 'data-testid="review-image"' in page
    assert f"/review/answers/{answer.pk}/accept/" in page and f"/review/answers/{answer.pk}/reject/" in page
    image = client.get(f"/review/tasks/{answer.task_id}/image/")
    assert image.status_code == 200 and b"".join(image.streaming_content)[:4] == b"\x89PNG"
    client.post(f"/review/answers/{answer.pk}/accept/")
    assert Answer.objects.get(pk=answer.pk).status == "accepted"


def test_adversarial_members_cannot_fetch_task_images_through_the_review_route(client, member, organization):
    project = factories.make_project(organization, tasks=1)
    client.force_login(member)
    assert client.get(f"/review/tasks/{project.tasks.first().pk}/image/").status_code == 403
