"""The client console (/client/): what the client API does, in the browser, through the same services.

Access control first: a client user of one organization never sees or acts on
another's projects, deliveries or agreements (404, as in the API), and
members, stewards and anonymous visitors cannot use the console at all.
"""

import csv
import io
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from governance.models import DataExportLog
from marketplace.models import Project, Task, WebhookDelivery
from marketplace.services import claiming, projects, submission
from tests import factories
from tests.conftest import requires_postgres


def _draft(organization, **fields):
    return factories.make_project(organization, tasks=0, publish=False, **fields)


def _jsonl(rows) -> SimpleUploadedFile:
    return SimpleUploadedFile("tasks.jsonl", ("\n".join(json.dumps(r) for r in rows) + "\n").encode(), content_type="application/x-ndjson")


@pytest.fixture
def console(client, client_user):
    client.force_login(client_user)
    return client


@pytest.fixture
def rival(db):
    """Another organization with a client user and a project of its own (draft, one task)."""
    organization = factories.make_organization("Rival Corp")
    user = factories.make_client_user(organization, email="eve@rival.example")
    project = factories.make_project(organization, tasks=1, publish=False, title="Rival secret project")
    return organization, user, project


PROJECT_FORM = {
    "title": "Receipts",
    "task_type": "ocr",
    "instructions": "Type what the receipt says.",
    "pay_per_task": "0.10",
    "estimated_seconds": "12",
    "overlap": "1",
    "max_overlap": "3",
    "agreement_target": "0.66",
    "gold_ratio": "0",
    "review_period_hours": "72",
}


# --- Access control -------------------------------------------------------------------------------


@pytest.mark.django_db
class TestAccess:
    def test_members_stewards_and_applicants_get_403_and_anonymous_visitors_sign_in(self, client, member, steward, applicant):
        for user in (member, steward, applicant):
            client.force_login(user)
            assert client.get("/client/").status_code == 403
            assert client.get("/client/money/").status_code == 403
        client.logout()
        response = client.get("/client/")
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]

    def test_adversarial_another_organizations_project_is_404_on_every_page_and_action(self, console, rival, organization):
        _, _, theirs = rival
        base = f"/client/projects/{theirs.pk}"
        task = Task.objects.get(project=theirs)
        for url in (f"{base}/", f"{base}/edit/", f"{base}/progress/", f"{base}/preview/", f"{base}/webhooks/",
                    f"{base}/results/?purpose=model_training", f"{base}/statement/", f"{base}/tasks/{task.pk}/image/"):
            assert console.get(url).status_code == 404, url
        for url, data in (
            (f"{base}/edit/", {**PROJECT_FORM, "title": "Hijacked"}),
            (f"{base}/publish/", {}),
            (f"{base}/pause/", {}),
            (f"{base}/cancel/", {}),
            (f"{base}/import/", {"file": _jsonl(factories.task_rows("ocr", 1, start=5))}),
            (f"{base}/gold/", {"external_id": "g", "gold": "x"}),
            (f"{base}/tasks/delete/", {"all": "1"}),
            (f"{base}/webhooks/rotate/", {}),
        ):
            assert console.post(url, data).status_code == 404, url
        theirs.refresh_from_db()
        assert (theirs.title, theirs.status) == ("Rival secret project", "draft")
        assert Task.objects.filter(project=theirs).count() == 1
        page = console.get("/client/").content.decode()
        assert "Rival secret project" not in page

    def test_adversarial_task_ids_of_another_project_in_a_delete_are_ignored(self, console, organization, rival):
        _, _, theirs = rival
        mine = factories.make_project(organization, tasks=2, publish=False)
        their_task = Task.objects.get(project=theirs)
        console.post(f"/client/projects/{mine.pk}/tasks/delete/", {"task": [str(their_task.pk)]})
        assert Task.objects.filter(pk=their_task.pk).exists()
        assert Task.objects.filter(project=mine).count() == 2

    def test_adversarial_resending_another_projects_delivery_through_my_project_is_404(self, console, organization, rival):
        _, _, theirs = rival
        mine = _draft(organization, webhook_url="https://hooks.acme.example/in")
        delivery = WebhookDelivery.objects.create(project=theirs, event="task.accepted", event_key="k", payload={}, status="failed")
        assert console.post(f"/client/projects/{mine.pk}/webhooks/{delivery.pk}/resend/").status_code == 404
        delivery.refresh_from_db()
        assert delivery.status == "failed"

    def test_adversarial_another_organizations_agreements_are_404(self, console, rival, organization):
        rival_org, _, _ = rival
        dua = factories.make_active_dua(rival_org)
        assert console.get(f"/client/agreements/dua/{dua.pk}/").status_code == 404
        assert console.get(f"/client/agreements/contracts/{dua.contract_id}/").status_code == 404
        assert console.post(f"/client/agreements/dua/{dua.pk}/", {"statement": "We deleted everything, honestly, all of it."}).status_code == 404
        dua.refresh_from_db()
        assert dua.deletion_attested_at is None
        assert "Rival Corp" not in console.get("/client/agreements/").content.decode()

    def test_client_navigation_links_to_the_console(self, console):
        page = console.get("/dashboard/").content.decode()
        assert 'href="/client/"' in page and 'href="/client/money/"' in page and 'href="/client/agreements/"' in page


# --- Projects -------------------------------------------------------------------------------------


@pytest.mark.django_db
class TestProjects:
    def test_list_shows_status_and_progress(self, console, organization, member):
        project = factories.make_project(organization, tasks=4, title="Invoices")
        lease = claiming.work_next(worker=member, project=project).assignment
        submission.assignment_submit(worker=member, assignment_id=lease.pk, payload={"text": "x"}, idempotency_key="k")
        _draft(organization, title="Later")
        page = console.get("/client/").content.decode()
        assert "Invoices" in page and "Later" in page and "Published" in page and "Draft" in page
        assert "1 of 4 labelled (25.0%)" in page

    def test_list_query_count_does_not_grow_with_projects(self, console, organization, django_assert_max_num_queries):
        for i in range(6):
            factories.make_project(organization, tasks=1, publish=False, title=f"P{i}")
        with django_assert_max_num_queries(8):
            assert console.get("/client/").status_code == 200

    def test_project_page_query_count_does_not_grow_with_tasks(self, console, organization, django_assert_max_num_queries):
        small = factories.make_project(organization, tasks=2, title="Small", instructions="Small one.")
        big = factories.make_project(organization, tasks=40, title="Big", instructions="Big one.")
        with django_assert_max_num_queries(30) as small_queries:
            console.get(f"/client/projects/{small.pk}/")
        with django_assert_max_num_queries(30) as big_queries:
            console.get(f"/client/projects/{big.pk}/")
        assert len(big_queries.captured_queries) == len(small_queries.captured_queries)

    def test_create_a_draft(self, console, organization, client_user):
        response = console.post("/client/projects/new/", PROJECT_FORM)
        project = Project.objects.get(organization=organization)
        assert response["Location"] == f"/client/projects/{project.pk}/"
        assert (project.title, project.status, project.created_by, str(project.pay_per_task)) == ("Receipts", "draft", client_user, "0.1000")

    def test_create_refusals_keep_what_was_typed_and_sit_beside_the_field(self, console, organization):
        response = console.post("/client/projects/new/", {**PROJECT_FORM, "task_type": "classification", "title": "Moods"})
        assert response.status_code == 200 and not Project.objects.exists()
        form = response.context["form"]
        assert form.errors["choices"] and 'value="Moods"' in response.content.decode()
        response = console.post("/client/projects/new/", {**PROJECT_FORM, "overlap": "4", "max_overlap": "2"})
        assert not Project.objects.exists() and response.context["form"].errors

    def test_webhook_secret_is_shown_once_after_creation(self, console, organization):
        console.post("/client/projects/new/", {**PROJECT_FORM, "webhook_url": "https://hooks.acme.example/in"})
        project = Project.objects.get()
        first = console.get(f"/client/projects/{project.pk}/").content.decode()
        assert project.webhook_secret and project.webhook_secret in first
        assert project.webhook_secret not in console.get(f"/client/projects/{project.pk}/").content.decode()

    def test_edit_a_draft_and_not_a_published_project(self, console, organization):
        project = _draft(organization, title="Old title")
        response = console.post(f"/client/projects/{project.pk}/edit/", {**PROJECT_FORM, "title": "New title", "pay_per_task": "0.25"})
        assert response.status_code == 302
        project.refresh_from_db()
        assert (project.title, str(project.pay_per_task), project.task_type) == ("New title", "0.2500", "ocr")
        live = factories.make_project(organization, tasks=1, title="Live")
        response = console.post(f"/client/projects/{live.pk}/edit/", {**PROJECT_FORM, "title": "Changed"}, follow=True)
        assert "Only draft projects can be edited" in response.content.decode()
        live.refresh_from_db()
        assert live.title == "Live"

    def test_adversarial_the_task_type_of_a_draft_cannot_be_changed_through_the_form(self, console, organization):
        project = _draft(organization)
        console.post(f"/client/projects/{project.pk}/edit/", {**PROJECT_FORM, "task_type": "classification"})
        project.refresh_from_db()
        assert project.task_type == "ocr"

    def test_progress_partial_listens_live_while_published(self, console, organization):
        project = factories.make_project(organization, tasks=2)
        partial = console.get(f"/client/projects/{project.pk}/progress/", HTTP_HX_REQUEST="true").content.decode()
        assert f'data-live-url="/ws/client/projects/{project.pk}/progress/"' in partial
        assert 'hx-trigger="progress-changed, every 30s' in partial and "0.0%" in partial
        assert 'data-testid="task-count">2<' in partial

    def test_preview_shows_the_first_task_as_a_worker_sees_it(self, console, organization):
        project = factories.make_project(organization, task_type="classification", tasks=2, publish=False)
        page = console.get(f"/client/projects/{project.pk}/preview/").content.decode()
        assert "Example text number 0" in page and "positive" in page and "Type <strong>exactly</strong>" in page
        assert 'data-testid="sensitive-warning"' not in page
        moderated = factories.make_project(organization, tasks=1, publish=False, sensitive_categories=["sexual_content"], instructions="Moderate.")
        assert "Sensitive content: Sexual content." in console.get(f"/client/projects/{moderated.pk}/preview/").content.decode()
        ocr = factories.make_project(organization, tasks=1, publish=False)
        page = console.get(f"/client/projects/{ocr.pk}/preview/").content.decode()
        task = Task.objects.get(project=ocr)
        assert f"/client/projects/{ocr.pk}/tasks/{task.pk}/image/" in page
        assert console.get(f"/client/projects/{ocr.pk}/tasks/{task.pk}/image/").status_code == 200


# --- Tasks ----------------------------------------------------------------------------------------


@pytest.mark.django_db
class TestImport:
    def test_jsonl_upload(self, console, organization):
        project = _draft(organization)
        response = console.post(f"/client/projects/{project.pk}/import/", {"file": _jsonl(factories.task_rows("ocr", 3, gold_every=3))})
        assert response.status_code == 302
        assert Task.objects.filter(project=project).count() == 3 and Task.objects.filter(project=project, is_gold=True).count() == 1

    def test_json_and_csv_uploads(self, console, organization):
        project = _draft(organization, task_type="classification", choices=["positive", "negative"])
        body = json.dumps({"tasks": factories.task_rows("classification", 2)}).encode()
        console.post(f"/client/projects/{project.pk}/import/", {"file": SimpleUploadedFile("t.json", body)})
        table = io.StringIO()
        writer = csv.writer(table)
        writer.writerow(["external_id", "text", "gold"])
        writer.writerow(["c-1", "Great, thanks", "positive"])
        writer.writerow(["c-2", "Awful, with a comma", ""])
        console.post(f"/client/projects/{project.pk}/import/", {"file": SimpleUploadedFile("t.csv", table.getvalue().encode())})
        assert sorted(Task.objects.filter(project=project).values_list("external_id", flat=True)) == ["c-1", "c-2", "txt-0", "txt-1"]
        gold = Task.objects.get(external_id="c-1")
        assert gold.is_gold and gold.data == {"text": "Great, thanks"}
        assert Task.objects.get(external_id="c-2").data == {"text": "Awful, with a comma"}

    def test_rejected_rows_are_listed_by_line_and_nothing_is_imported(self, console, organization):
        project = _draft(organization, task_type="classification", choices=["x", "y"])
        rows = factories.task_rows("classification", 3)
        lines = [json.dumps(r) for r in rows]
        lines.insert(1, "{not json")
        lines.append(json.dumps({"external_id": "txt-0", "data": {"text": "again"}}))
        upload = SimpleUploadedFile("bad.jsonl", "\n".join(lines).encode())
        response = console.post(f"/client/projects/{project.pk}/import/", {"file": upload}, HTTP_HX_REQUEST="true")
        assert response.status_code == 200  # htmx swaps the refusal into the page
        page = response.content.decode()
        assert "Nothing was imported" in page and "Malformed JSON" in page and "Duplicate external_id" in page
        assert [row["line"] for row in response.context["rows"]] == [2, 5]
        assert Task.objects.filter(project=project).count() == 0
        plain = console.post(f"/client/projects/{project.pk}/import/", {"file": SimpleUploadedFile("bad.jsonl", b"{oops\n")})
        assert plain.status_code == 422 and "Malformed JSON" in plain.content.decode()

    def test_adversarial_unknown_file_types_and_csv_columns_are_refused(self, console, organization):
        project = _draft(organization, task_type="classification", choices=["x", "y"])
        response = console.post(f"/client/projects/{project.pk}/import/", {"file": SimpleUploadedFile("t.xml", b"<tasks/>")})
        assert response.status_code == 422 and "Upload a .json, .jsonl or .csv file" in response.content.decode()
        table = b"external_id,text,status\nz,hello,accepted\n"
        response = console.post(f"/client/projects/{project.pk}/import/", {"file": SimpleUploadedFile("t.csv", table)})
        assert "Unknown CSV columns: status" in response.content.decode()
        table = b"external_id,text\nz,hello,extra\n"
        response = console.post(f"/client/projects/{project.pk}/import/", {"file": SimpleUploadedFile("t.csv", table)})
        assert "Unknown fields: extra_cells" in response.content.decode()
        assert not Task.objects.filter(project=project).exists()

    def test_folder_of_images(self, console, organization):
        import base64

        project = _draft(organization)
        images = [
            SimpleUploadedFile(f"scans/page-{i}.png", base64.b64decode(factories.png_base64(f"p{i}")), content_type="image/png")
            for i in range(3)
        ]
        console.post(f"/client/projects/{project.pk}/import/", {"images": images})
        tasks = Task.objects.filter(project=project).order_by("external_id")
        assert [t.external_id for t in tasks] == ["page-0.png", "page-1.png", "page-2.png"] and all(t.image for t in tasks)
        not_an_image = SimpleUploadedFile("notes.png", b"hello")
        response = console.post(f"/client/projects/{project.pk}/import/", {"images": [not_an_image]})
        assert "not a readable PNG or JPEG" in response.content.decode() and tasks.count() == 3

    def test_import_into_a_cancelled_project_is_refused_with_the_reason(self, console, organization):
        project = factories.make_project(organization, tasks=1)
        projects.project_cancel(project=project)
        response = console.post(f"/client/projects/{project.pk}/import/", {"file": _jsonl(factories.task_rows("ocr", 1, start=9))})
        assert response.status_code == 409 and "cannot be added to a cancelled project" in response.content.decode()

    def test_add_a_gold_task(self, console, organization):
        project = _draft(organization, task_type="classification", choices=["positive", "negative"])
        console.post(f"/client/projects/{project.pk}/gold/", {"external_id": "g-1", "text": "I love it", "gold": "positive"})
        task = Task.objects.get(project=project)
        assert task.is_gold and task.gold == "positive" and task.data == {"text": "I love it"}
        response = console.post(f"/client/projects/{project.pk}/gold/", {"external_id": "g-2", "text": "Meh", "gold": "maybe"}, follow=True)
        assert "Gold task not added" in response.content.decode() and Task.objects.filter(project=project).count() == 1

    def test_delete_tasks_of_a_draft_only(self, console, organization):
        project = factories.make_project(organization, tasks=3, publish=False)
        first = Task.objects.filter(project=project).order_by("pk").first()
        console.post(f"/client/projects/{project.pk}/tasks/delete/", {"task": [str(first.pk)]})
        assert Task.objects.filter(project=project).count() == 2
        console.post(f"/client/projects/{project.pk}/tasks/delete/", {"all": "1"})
        assert Task.objects.filter(project=project).count() == 0
        live = factories.make_project(organization, tasks=2)
        response = console.post(f"/client/projects/{live.pk}/tasks/delete/", {"all": "1"}, follow=True)
        assert "only be deleted while the project is a draft" in response.content.decode()
        assert Task.objects.filter(project=live).count() == 2


# --- Lifecycle ------------------------------------------------------------------------------------


@pytest.mark.django_db
class TestLifecycle:
    def test_publish_refusals_are_explained_then_publish_pause_resume_cancel(self, console, organization):
        project = _draft(organization)
        page = console.post(f"/client/projects/{project.pk}/publish/", follow=True).content.decode()
        assert "Not published: Import tasks before publishing." in page
        console.post(f"/client/projects/{project.pk}/import/", {"file": _jsonl(factories.task_rows("ocr", 2))})
        page = console.post(f"/client/projects/{project.pk}/publish/", follow=True).content.decode()
        assert "Not published:" in page and "data-use agreement" in page
        factories.make_active_dua(organization)
        page = console.post(f"/client/projects/{project.pk}/publish/", follow=True).content.decode()
        assert "Not published:" in page
        project.refresh_from_db()
        assert project.status == "draft"  # no money deposited yet: nothing moved
        factories.fund_project(project)
        page = console.post(f"/client/projects/{project.pk}/publish/", follow=True).content.decode()
        project.refresh_from_db()
        assert project.status == "published" and "Published: members can see" in page
        console.post(f"/client/projects/{project.pk}/pause/")
        project.refresh_from_db()
        assert project.status == "paused"
        console.post(f"/client/projects/{project.pk}/publish/")
        project.refresh_from_db()
        assert project.status == "published"
        console.post(f"/client/projects/{project.pk}/cancel/")
        project.refresh_from_db()
        assert project.status == "cancelled"
        page = console.post(f"/client/projects/{project.pk}/pause/", follow=True).content.decode()
        assert "Not paused:" in page and "cancelled" in page

    def test_a_members_pause_offers_a_resume_vote_not_a_resume_button(self, console, organization, steward):
        from governance.models import Proposal

        project = factories.make_project(organization, tasks=2)
        projects.project_pause_by_steward(project=project, steward=steward, reason="Harmful images reported by workers.")
        page = console.get(f"/client/projects/{project.pk}/").content.decode()
        assert 'data-testid="resume-vote"' in page and 'data-testid="publish"' not in page
        page = console.post(f"/client/projects/{project.pk}/resume-vote/", {"statement": "short"}, follow=True).content.decode()
        assert "Not put to a vote" in page and not Proposal.objects.filter(kind="project_resume").exists()
        statement = "We removed every image the workers reported and checked the rest."
        page = console.post(f"/client/projects/{project.pk}/resume-vote/", {"statement": statement}, follow=True).content.decode()
        assert "The members vote on resuming it" in page
        assert statement in Proposal.objects.get(kind="project_resume").body

    def test_below_pay_floor_is_explained(self, console, organization):
        project = factories.make_project(organization, tasks=1, publish=False, pay_per_task="0.0001", estimated_seconds=600)
        factories.make_active_dua(organization)
        page = console.post(f"/client/projects/{project.pk}/publish/", follow=True).content.decode()
        assert "pay floor" in page and "Pay at least" in page

    def test_unknown_action_is_404(self, console, organization):
        project = _draft(organization)
        assert console.post(f"/client/projects/{project.pk}/delete-everything/").status_code == 404
        assert console.get(f"/client/projects/{project.pk}/publish/").status_code == 405


# --- Results, statements, money, agreements --------------------------------------------------------


@pytest.mark.django_db
class TestResultsAndMoney:
    def _labelled(self, organization, member):
        project = factories.make_project(organization, tasks=2)
        for i in range(2):
            lease = claiming.work_next(worker=member, project=project).assignment
            submission.assignment_submit(worker=member, assignment_id=lease.pk, payload={"text": f"r{i}"}, idempotency_key=f"k{i}")
        return project

    def test_results_download_with_a_permitted_purpose_is_logged(self, console, organization, member):
        project = self._labelled(organization, member)
        page = console.get(f"/client/projects/{project.pk}/").content.decode()
        assert '<option value="model_training">Training machine-learning models</option>' in page
        assert 'value="research"' not in page  # not in this DUA
        response = console.get(f"/client/projects/{project.pk}/results/", {"purpose": "evaluation", "format": "csv"})
        assert response.status_code == 200
        rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
        assert sorted(r["external_id"] for r in rows) == ["img-0", "img-1"] and member.email not in str(rows)
        log = DataExportLog.objects.get()
        assert (log.purpose, log.project_id, log.rows) == ("evaluation", project.pk, 2)

    def test_adversarial_a_purpose_the_dua_does_not_permit_downloads_nothing(self, console, organization, member):
        project = self._labelled(organization, member)
        for purpose in ("surveillance", "research", ""):
            response = console.get(f"/client/projects/{project.pk}/results/", {"purpose": purpose}, follow=True)
            assert "Results not downloaded" in response.content.decode()
            assert response["Content-Type"].startswith("text/html")
        assert not DataExportLog.objects.exists()

    def test_statement_downloads(self, console, organization, member):
        project = self._labelled(organization, member)
        response = console.get(f"/client/projects/{project.pk}/statement/", {"format": "csv"})
        table = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
        assert {row["kind"] for row in table} >= {"escrow_fund", "earning"} and member.email not in str(table)
        body = console.get(f"/client/projects/{project.pk}/statement/", {"format": "json"}).json()
        assert body["project"] == project.pk and body["totals"]["earnings"] == "0.2000"

    def test_money_page_shows_cash_escrow_and_deposits(self, console, organization):
        factories.deposit(organization, "100.00", reference="BANK-777")
        project = factories.make_project(organization, tasks=2, title="Funded")
        page = console.get("/client/money/").content.decode()
        assert "BANK-777" in page and "USD 100.00" in page and "Funded" in page
        escrow = console.get(f"/client/projects/{project.pk}/").context["escrow"]
        assert escrow["balance"] > 0

    def test_agreements_are_readable_and_deletion_can_be_attested(self, console, organization, client_user):
        dua = factories.make_active_dua(organization)
        page = console.get("/client/agreements/").content.decode()
        assert "Acme Labs labeling contract" in page and f"/client/agreements/dua/{dua.pk}/" in page
        page = console.get(f"/client/agreements/dua/{dua.pk}/").content.decode()
        assert "Training machine-learning models" in page and "Surveillance of individuals" in page
        assert console.get(f"/client/agreements/contracts/{dua.contract_id}/").status_code == 200
        short = console.post(f"/client/agreements/dua/{dua.pk}/", {"statement": "gone"})
        assert short.status_code == 200 and short.context["form"].errors
        console.post(f"/client/agreements/dua/{dua.pk}/", {"statement": "Deleted every copy from our buckets and backups on 1 Dec."})
        dua.refresh_from_db()
        assert dua.deletion_attested_by == client_user and dua.deletion_attested_at is not None

    def test_governance_agreement_pages_send_client_users_to_their_console(self, console, organization, rival):
        dua = factories.make_active_dua(organization)
        assert console.get(f"/governance/dua/{dua.pk}/")["Location"] == f"/client/agreements/dua/{dua.pk}/"
        assert console.get(f"/governance/contracts/{dua.contract_id}/")["Location"] == f"/client/agreements/contracts/{dua.contract_id}/"
        assert console.get("/governance/dua/")["Location"] == "/client/agreements/"
        theirs = factories.make_active_dua(rival[0])
        assert console.get(f"/governance/dua/{theirs.pk}/", follow=True).status_code == 404


# --- Webhooks -------------------------------------------------------------------------------------


@pytest.mark.django_db
class TestWebhooks:
    def test_delivery_log_resend_and_rotate(self, console, organization, settings):
        project = _draft(organization, webhook_url="https://hooks.acme.example/in")
        failed = WebhookDelivery.objects.create(
            project=project, event="task.accepted", event_key="a", payload={}, status="failed", attempts=9, response_status=503, last_error="HTTP 503"
        )
        delivered = WebhookDelivery.objects.create(project=project, event="project.completed", event_key="b", payload={}, status="delivered", response_status=200)
        page = console.get(f"/client/projects/{project.pk}/webhooks/").content.decode()
        assert "HTTP 503" in page and "HTTP 200" in page and "Resend" in page
        console.post(f"/client/projects/{project.pk}/webhooks/{failed.pk}/resend/")
        failed.refresh_from_db()
        assert failed.status == "pending" and failed.last_error == ""
        page = console.post(f"/client/projects/{project.pk}/webhooks/{delivered.pk}/resend/", follow=True).content.decode()
        assert "Only failed deliveries can be resent" in page
        old = Project.objects.get(pk=project.pk).webhook_secret
        page = console.post(f"/client/projects/{project.pk}/webhooks/rotate/").content.decode()
        new = Project.objects.get(pk=project.pk).webhook_secret
        assert new != old and len(new) == 64 and new in page
        assert new not in console.get(f"/client/projects/{project.pk}/webhooks/").content.decode()

    def test_rotate_without_a_webhook_url_is_explained(self, console, organization):
        project = _draft(organization)
        page = console.post(f"/client/projects/{project.pk}/webhooks/rotate/", follow=True).content.decode()
        assert "Set a webhook URL first" in page and Project.objects.get(pk=project.pk).webhook_secret == ""


# --- API additions the console needed -------------------------------------------------------------


@pytest.mark.django_db
class TestProjectPatchApi:
    def test_patch_edits_a_draft(self, org_api, organization):
        project = _draft(organization, title="Old")
        response = org_api.patch(f"/api/v1/projects/{project.pk}/", {"title": "New", "pay_per_task": "0.2000", "max_overlap": 4}, format="json")
        assert response.status_code == 200, response.content
        body = response.json()
        assert (body["title"], body["pay_per_task"], body["max_overlap"]) == ("New", "0.2000", 4) and "progress" in body
        assert "webhook_secret" not in body

    def test_first_webhook_url_returns_the_secret_once(self, org_api, organization):
        project = _draft(organization)
        body = org_api.patch(f"/api/v1/projects/{project.pk}/", {"webhook_url": "https://h.acme.example/x"}, format="json").json()
        assert body["webhook_secret"] == Project.objects.get(pk=project.pk).webhook_secret
        again = org_api.patch(f"/api/v1/projects/{project.pk}/", {"title": "T2"}, format="json").json()
        assert "webhook_secret" not in again

    def test_patch_refusals(self, org_api, organization):
        project = _draft(organization)
        url = f"/api/v1/projects/{project.pk}/"
        assert org_api.patch(url, {"task_type": "classification"}, format="json").status_code == 400
        response = org_api.patch(url, {"max_overlap": 1, "overlap": 2}, format="json")
        assert response.status_code in (400, 422) and response.json()["error"]
        assert org_api.patch(url, {"pay_per_task": "0"}, format="json").status_code in (400, 422)
        assert org_api.patch(url, {"title": ""}, format="json").status_code == 400
        live = factories.make_project(organization, tasks=1)
        response = org_api.patch(f"/api/v1/projects/{live.pk}/", {"title": "x"}, format="json")
        assert response.status_code == 409 and response.json()["error"]["code"] == "not_draft"
        project.refresh_from_db()
        assert (project.task_type, project.overlap, project.max_overlap) == ("ocr", 1, 3)

    def test_adversarial_renamed_or_status_fields_are_refused_not_ignored(self, org_api, organization):
        project = _draft(organization)
        for body in ({"status": "published"}, {"organization": "rival"}, {"webhook_secret": "mine"}, {"Pay_per_task": "9"}):
            response = org_api.patch(f"/api/v1/projects/{project.pk}/", body, format="json")
            assert response.status_code == 400, body
        project.refresh_from_db()
        assert project.status == "draft" and project.webhook_secret == ""

    def test_adversarial_another_organizations_project_is_404(self, org_api, rival):
        _, _, theirs = rival
        assert org_api.patch(f"/api/v1/projects/{theirs.pk}/", {"title": "pwned"}, format="json").status_code == 404
        theirs.refresh_from_db()
        assert theirs.title == "Rival secret project"


@pytest.mark.django_db
class TestTaskApis:
    def test_list_filters_and_pages(self, org_api, organization):
        project = factories.make_project(organization, tasks=7, gold_every=3, publish=False)
        url = f"/api/v1/projects/{project.pk}/tasks/"
        first = org_api.get(url, {"limit": 3}).json()
        assert [t["external_id"] for t in first["results"]] == ["img-0", "img-1", "img-2"] and first["next"]
        second = org_api.get(first["next"]).json()
        assert [t["external_id"] for t in second["results"]] == ["img-3", "img-4", "img-5"]
        last = org_api.get(second["next"]).json()
        assert [t["external_id"] for t in last["results"]] == ["img-6"] and last["next"] is None
        gold = org_api.get(url, {"gold": "true"}).json()["results"]
        assert [t["external_id"] for t in gold] == ["img-0", "img-3", "img-6"] and gold[0]["has_image"] and "image" not in gold[0]["data"]
        assert org_api.get(url, {"external_id": "img-4"}).json()["results"][0]["external_id"] == "img-4"
        assert org_api.get(url, {"state": "accepted"}).json()["results"] == []
        assert org_api.get(url, {"state": "bogus"}).status_code == 400
        assert org_api.get(url, {"limit": 501}).status_code == 400

    def test_list_query_count_is_constant(self, org_api, organization, django_assert_max_num_queries):
        project = factories.make_project(organization, tasks=30, publish=False)
        with django_assert_max_num_queries(4):
            assert len(org_api.get(f"/api/v1/projects/{project.pk}/tasks/", {"limit": 25}).json()["results"]) == 25

    def test_a_tasks_answers_need_a_permitted_purpose(self, org_api, organization, member):
        project = factories.make_project(organization, tasks=1)
        task = Task.objects.get(project=project)
        lease = claiming.work_next(worker=member, project=project).assignment
        submission.assignment_submit(worker=member, assignment_id=lease.pk, payload={"text": "hello"}, idempotency_key="k")
        url = f"/api/v1/projects/{project.pk}/tasks/{task.pk}/answers/"
        assert org_api.get(url).status_code == 400
        assert org_api.get(url, {"purpose": "surveillance"}).status_code == 403
        body = org_api.get(url, {"purpose": "evaluation"}).json()
        assert body["answers"][0]["payload"] == {"text": "hello"} and body["answers"][0]["worker"].startswith("w_")
        assert body["label"]["label"] == {"text": "hello"} and member.email not in json.dumps(body)

    def test_delete_a_draft_task(self, org_api, organization):
        project = factories.make_project(organization, tasks=2, publish=False)
        task = Task.objects.filter(project=project).first()
        assert org_api.delete(f"/api/v1/projects/{project.pk}/tasks/{task.pk}/").status_code == 204
        assert org_api.delete(f"/api/v1/projects/{project.pk}/tasks/{task.pk}/").status_code == 404
        live = factories.make_project(organization, tasks=1)
        live_task = Task.objects.get(project=live)
        response = org_api.delete(f"/api/v1/projects/{live.pk}/tasks/{live_task.pk}/")
        assert response.status_code == 409 and response.json()["error"]["code"] == "not_draft"
        assert Task.objects.filter(pk=live_task.pk).exists()

    def test_adversarial_another_organizations_tasks_are_404(self, org_api, organization, rival):
        _, _, theirs = rival
        task = Task.objects.get(project=theirs)
        mine = _draft(organization)
        for url in (f"/api/v1/projects/{theirs.pk}/tasks/", f"/api/v1/projects/{theirs.pk}/tasks/{task.pk}/",
                    f"/api/v1/projects/{mine.pk}/tasks/{task.pk}/"):
            assert org_api.get(url).status_code == 404, url
        assert org_api.delete(f"/api/v1/projects/{mine.pk}/tasks/{task.pk}/").status_code == 404
        assert org_api.delete(f"/api/v1/projects/{theirs.pk}/tasks/{task.pk}/").status_code == 404
        assert Task.objects.filter(pk=task.pk).exists()


# --- Concurrency (PostgreSQL) ---------------------------------------------------------------------


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_adversarial_deleting_tasks_while_publishing_never_leaves_a_live_project_without_tasks():
    """A client clicks "Delete all tasks" and "Publish" at once: the project row lock serialises them."""
    import threading

    from django.db import connection

    from coop.errors import ApplicationError
    from marketplace.services import task_drafts

    organization = factories.make_organization("Race Co")
    for attempt in range(4):
        project = factories.make_project(organization, tasks=3, publish=False, title=f"Race {attempt}", instructions=f"Read code {attempt}.")
        factories.make_active_dua(organization)
        factories.fund_project(project)
        barrier = threading.Barrier(2)
        outcomes: dict[str, object] = {}

        def run(name, call):
            try:
                barrier.wait()
                outcomes[name] = call()
            except ApplicationError as error:
                outcomes[name] = error.code
            finally:
                connection.close()

        threads = [
            threading.Thread(target=run, args=("publish", lambda: projects.project_publish(project=project).status)),
            threading.Thread(target=run, args=("delete", lambda: task_drafts.tasks_delete_draft(project=project))),
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        project.refresh_from_db()
        tasks = Task.objects.filter(project=project).count()
        if project.status == "published":
            assert tasks == 3 and outcomes["delete"] == "not_draft", outcomes
        else:
            assert project.status == "draft" and tasks == 0 and outcomes == {"delete": 3, "publish": "no_tasks"}, outcomes


@pytest.mark.django_db
def test_csv_import_through_the_api(org_api, organization):
    project = _draft(organization, task_type="pairwise")
    body = 'external_id,prompt,response_a,response_b,gold\np-1,"Which, really?",Yes,"No\nreally",a\np-2,Q2,A,B,\n'
    response = org_api.generic("POST", f"/api/v1/projects/{project.pk}/tasks/", body, content_type="text/csv")
    assert response.status_code == 201, response.content
    assert (response.json()["imported"], response.json()["gold"]) == (2, 1)
    assert Task.objects.get(external_id="p-1").data == {"prompt": "Which, really?", "response_a": "Yes", "response_b": "No\nreally"}
    bad = org_api.generic("POST", f"/api/v1/projects/{project.pk}/tasks/", "external_id,prompt\np-3,Q\n", content_type="text/csv")
    assert bad.status_code == 422 and bad.json()["error"]["rows"][0]["line"] == 2
    assert org_api.generic("POST", f"/api/v1/projects/{project.pk}/tasks/", "x", content_type="text/plain").status_code == 415
