import pytest
from asgiref.sync import async_to_sync
from channels.testing import WebsocketCommunicator

from marketplace.models import Answer, Task
from marketplace.services import claiming, projects, review, submission
from tests import factories


@pytest.mark.django_db
class TestMemberPages:
    def test_feed_shows_pay_time_and_sensitive_warning(self, client, member, organization):
        factories.make_project(organization, tasks=3, title="Receipts", pay_per_task="0.12", estimated_seconds=18)
        factories.make_project(organization, tasks=1, title="Moderation", sensitive_categories=["violence"], pay_per_task="0.5")
        factories.make_project(organization, tasks=1, title="Hidden draft", publish=False)
        client.force_login(member)
        page = client.get("/work/").content.decode()
        assert "Receipts" in page and "USD 24.00/hour" in page and "3 tasks open" in page
        assert "Sensitive content: Violence" in page and "Hidden draft" not in page and "sexual_content" not in page
        assert 'data-testid="opt-in-needed"' in page  # shown before claiming, but opt-in first
        assert page.index("Moderation") < page.index("Receipts")  # best-paid first

    def test_sensitive_project_requires_confirmation(self, client, member, organization):
        project = factories.make_project(organization, tasks=1, sensitive_categories=["disturbing_imagery"])
        client.force_login(member)
        assert client.get(f"/work/projects/{project.pk}/label/")["Location"] == "/work/"  # not opted in
        client.post("/work/preferences/", {"sensitive_opt_in": ["disturbing_imagery"]})
        assert client.get(f"/work/projects/{project.pk}/label/")["Location"] == f"/work/projects/{project.pk}/"
        page = client.get(f"/work/projects/{project.pk}/").content.decode()
        assert 'data-testid="dua-terms"' in page and "Training machine-learning models" in page  # the DUA terms, in words
        assert client.get(f"/work/projects/{project.pk}/label/?confirmed=1").status_code == 200

    def test_label_page_and_submissions_with_appeal(self, client, member, organization, steward):
        project = factories.make_project(organization, tasks=1, overlap=2)  # the answer waits for review
        client.force_login(member)
        assert 'id="labeler"' in client.get(f"/work/projects/{project.pk}/label/").content.decode()
        lease = claiming.work_next(worker=member, project=project).assignment
        answer, _ = submission.assignment_submit(worker=member, assignment_id=lease.pk, payload={"text": "zz"}, idempotency_key="k")
        review.answer_review(reviewer=steward, answer=answer, accept=False, reason="incorrect", feedback="It says zx, not zz.")
        page = client.get("/work/submissions/").content.decode()
        assert "It says zx, not zz." in page and "File appeal" in page
        client.post(f"/work/submissions/{answer.pk}/appeal/", {"reason": "Zoomed in: it is zz."})
        assert Answer.objects.get(pk=answer.pk).appeal_status == "pending"

    def test_clients_and_applicants_cannot_see_work_pages(self, client, client_user, applicant):
        for user in (client_user, applicant):
            client.force_login(user)
            assert client.get("/work/").status_code == 403


@pytest.mark.django_db
def test_steward_review_queue_actions(client, steward, organization):
    project = factories.make_project(organization, tasks=1, overlap=2, max_overlap=2, agreement_target="0.9")
    answers = []
    for text in ("dog", "dig"):
        worker = factories.make_member()
        lease = claiming.work_next(worker=worker, project=project).assignment
        answers.append(submission.assignment_submit(worker=worker, assignment_id=lease.pk, payload={"text": text}, idempotency_key="k")[0])
    client.force_login(steward)
    page = client.get("/review/").content.decode()
    assert "dog" in page and "dig" in page
    client.post(f"/review/answers/{answers[0].pk}/choose/")
    client.post(f"/review/answers/{answers[1].pk}/reject/", {"reason": "incorrect", "feedback": "The middle letter is an o."})
    assert Task.objects.get().state == "accepted"
    assert Answer.objects.get(pk=answers[1].pk).status == "rejected"


@pytest.mark.django_db(transaction=True)
def test_feed_socket_announces_publication(client):
    from config.asgi import application

    member = factories.make_member()
    client.force_login(member)
    organization = factories.make_organization("Live Co")
    project = factories.make_project(organization, tasks=1, publish=False)
    factories.make_active_dua(organization)
    factories.fund_project(project)

    async def scenario():
        from channels.db import database_sync_to_async

        socket = WebsocketCommunicator(
            application,
            "/ws/marketplace/feed/",
            headers=[(b"origin", b"http://testserver"), (b"cookie", f"sessionid={client.cookies['sessionid'].value}".encode())],
        )
        connected, _ = await socket.connect()
        assert connected
        await database_sync_to_async(projects.project_publish)(project=project)
        event = await socket.receive_json_from(timeout=5)
        assert (event["event"], event["project"]) == ("published", project.pk)
        await socket.disconnect()

    async_to_sync(scenario)()
