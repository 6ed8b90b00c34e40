import json

import pytest
from django.core.files.storage import default_storage

from marketplace.models import Project, Task
from tests import factories


def _project(organization, **fields):
    return factories.make_project(organization, tasks=0, publish=False, **fields)


@pytest.mark.django_db
class TestImportApi:
    def test_json_import_stores_images_through_storage(self, org_api, organization):
        project = _project(organization)
        rows = factories.task_rows("ocr", 3, gold_every=3)
        response = org_api.post(f"/api/v1/projects/{project.pk}/tasks/", {"tasks": rows}, format="json")
        assert response.status_code == 201, response.content
        body = response.json()
        assert (body["imported"], body["gold"]) == (3, 1)
        assert body["project"]["progress"]["tasks"] == 2 and body["project"]["progress"]["gold_tasks"] == 1
        task = Task.objects.get(project=project, external_id="img-1")
        assert task.image.name.startswith(f"tasks/{project.pk}/") and default_storage.exists(task.image.name)
        assert "image" not in task.data and task.required_answers == project.overlap

    def test_jsonl_import(self, org_api, organization):
        project = _project(organization, task_type="pairwise")
        body = "\n".join(json.dumps(r) for r in factories.task_rows("pairwise", 4)) + "\n\n"
        response = org_api.generic("POST", f"/api/v1/projects/{project.pk}/tasks/", body, content_type="application/x-ndjson")
        assert response.status_code == 201 and response.json()["imported"] == 4

    def test_malformed_jsonl_rows_are_listed_by_line_and_nothing_is_imported(self, org_api, organization):
        project = _project(organization, task_type="classification", choices=["x", "y"])
        lines = [json.dumps(r) for r in factories.task_rows("classification", 3)]
        lines.insert(1, "{not json")
        lines.append(json.dumps({"external_id": "", "data": {"text": "t"}}))
        lines.append(json.dumps({"external_id": "z", "data": {"text": 5}}))
        response = org_api.generic("POST", f"/api/v1/projects/{project.pk}/tasks/", "\n".join(lines), content_type="application/x-ndjson")
        assert response.status_code == 422
        error = response.json()["error"]
        assert error["code"] == "invalid_tasks"
        assert [row["line"] for row in error["rows"]] == [2, 5, 6]
        assert "Malformed JSON" in error["rows"][0]["message"]
        assert Task.objects.filter(project=project).count() == 0

    def test_duplicates_are_rejected_with_their_ids_and_images_removed(self, org_api, organization, settings, tmp_path):
        settings.MEDIA_ROOT = tmp_path
        project = _project(organization)
        rows = factories.task_rows("ocr", 3)
        assert org_api.post(f"/api/v1/projects/{project.pk}/tasks/", {"tasks": rows[:1]}, format="json").status_code == 201
        files_before = set(p.name for p in (tmp_path / "tasks" / str(project.pk)).iterdir())
        again = rows + [dict(rows[2])]  # img-0 exists already; img-2 appears twice in this import
        response = org_api.post(f"/api/v1/projects/{project.pk}/tasks/", {"tasks": again}, format="json")
        assert response.status_code == 422
        error = response.json()["error"]
        assert error["code"] == "duplicate_external_ids"
        assert error["duplicates"] == ["img-0", "img-2"]
        assert Task.objects.filter(project=project).count() == 1
        assert set(p.name for p in (tmp_path / "tasks" / str(project.pk)).iterdir()) == files_before

    def test_bad_images(self, org_api, organization):
        project = _project(organization)
        gif = "R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7"
        rows = [
            {"external_id": "a", "data": {"image": "not base64!!"}},
            {"external_id": "b", "data": {"image": "aGVsbG8="}},  # "hello": not an image
            {"external_id": "c", "data": {"image": gif}},
            {"external_id": "d", "data": {}},
        ]
        error = org_api.post(f"/api/v1/projects/{project.pk}/tasks/", {"tasks": rows}, format="json").json()["error"]
        messages = [row["message"] for row in error["rows"]]
        assert "not valid base64" in messages[0]
        assert "not a readable PNG or JPEG" in messages[1]
        assert "PNG or JPEG, not GIF" in messages[2]
        assert "need 'data.image'" in messages[3]

    def test_wrong_types_and_bodies(self, org_api, organization):
        project = _project(organization)
        url = f"/api/v1/projects/{project.pk}/tasks/"
        assert org_api.post(url, {"tasks": [{"external_id": 5, "data": "x"}]}, format="json").status_code == 422
        assert org_api.generic("POST", url, "{\"tasks\": [", content_type="application/json").json()["error"]["code"] == "malformed_json"
        assert org_api.generic("POST", url, "a,b", content_type="text/plain").status_code == 415  # text/csv is supported
        assert org_api.generic("POST", url, "", content_type="application/json").status_code == 400
        assert org_api.post(url, {"tasks": []}, format="json").json()["error"]["code"] == "empty_import"

    def test_other_organizations_projects_are_404(self, org_api):
        other = factories.make_project(factories.make_organization("Other"), tasks=1, publish=False)
        for path in ("", "tasks/", "results/"):
            response = org_api.get(f"/api/v1/projects/{other.pk}/{path}") if path != "tasks/" else org_api.post(
                f"/api/v1/projects/{other.pk}/tasks/", {"tasks": []}, format="json"
            )
            assert response.status_code == 404, path
            assert response.json()["error"]["code"] == "not_found"
        assert org_api.get("/api/v1/projects/999999/").status_code == 404


@pytest.mark.django_db
class TestProjectApi:
    def test_create_returns_effective_hourly_pay(self, org_api):
        response = org_api.post(
            "/api/v1/projects/",
            {"title": "Receipts", "instructions": "Type the total.", "task_type": "ocr", "pay_per_task": "0.0833", "estimated_seconds": 12},
            format="json",
        )
        assert response.status_code == 201
        body = response.json()
        assert body["effective_hourly_pay"] == "24.99" and body["status"] == "draft"

    def test_create_validation(self, org_api):
        response = org_api.post(
            "/api/v1/projects/",
            {"title": "", "instructions": "x", "task_type": "video", "pay_per_task": "-1", "estimated_seconds": 0},
            format="json",
        )
        assert response.status_code == 400
        assert {"title", "task_type", "pay_per_task", "estimated_seconds"} <= set(response.json()["error"]["fields"])
        no_choices = org_api.post(
            "/api/v1/projects/",
            {"title": "C", "instructions": "x", "task_type": "classification", "pay_per_task": "0.1", "estimated_seconds": 5},
            format="json",
        )
        assert no_choices.status_code == 422 and "choices" in no_choices.json()["error"]["fields"]

    def test_status_machine_refusals(self, org_api, organization):
        project = _project(organization)
        refused = org_api.post(f"/api/v1/projects/{project.pk}/publish/")
        assert refused.status_code == 422 and refused.json()["error"]["code"] == "no_tasks"
        assert org_api.post(f"/api/v1/projects/{project.pk}/pause/").json()["error"]["code"] == "invalid_status"
        org_api.post(f"/api/v1/projects/{project.pk}/tasks/", {"tasks": factories.task_rows("ocr", 1)}, format="json")
        no_dua = org_api.post(f"/api/v1/projects/{project.pk}/publish/")
        assert no_dua.status_code == 422 and no_dua.json()["error"]["code"] == "no_active_dua"
        factories.make_active_dua(organization)
        unfunded = org_api.post(f"/api/v1/projects/{project.pk}/publish/").json()["error"]
        # One task × max overlap 3 × (0.10 + 5 % fee) must be in escrow first.
        assert unfunded["code"] == "insufficient_funds" and (unfunded["required"], unfunded["available"]) == ("0.3150", "0.0000")
        factories.deposit(organization, "1.00")
        assert org_api.post(f"/api/v1/projects/{project.pk}/publish/").json()["status"] == "published"
        assert Project.objects.get(pk=project.pk).dua is not None
        assert org_api.post(f"/api/v1/projects/{project.pk}/pause/").json()["status"] == "paused"
        assert org_api.post(f"/api/v1/projects/{project.pk}/publish/").json()["status"] == "published"
        assert org_api.post(f"/api/v1/projects/{project.pk}/cancel/").json()["status"] == "cancelled"
        again = org_api.post(f"/api/v1/projects/{project.pk}/cancel/")
        assert again.status_code == 409 and again.json()["error"]["code"] == "invalid_status"
        assert Project.objects.get(pk=project.pk).status == "cancelled"

    def test_members_cannot_use_the_client_api(self, member_api):
        assert member_api.get("/api/v1/projects/").status_code == 403


@pytest.mark.django_db
def test_oversized_images_and_imports_are_refused(org_api, organization, settings):
    import base64
    import os

    project = _project(organization)
    huge = base64.b64encode(os.urandom(6 * 1024 * 1024)).decode()
    response = org_api.post(f"/api/v1/projects/{project.pk}/tasks/", {"tasks": [{"external_id": "big", "data": {"image": huge}}]}, format="json")
    assert response.status_code == 422 and "larger than 5 MB" in response.json()["error"]["rows"][0]["message"]
    settings.TASK_IMPORT_MAX_BYTES = 100
    body = json.dumps({"tasks": factories.task_rows("ocr", 1)})
    too_big = org_api.generic("POST", f"/api/v1/projects/{project.pk}/tasks/", body, content_type="application/json")
    assert too_big.status_code == 413 and too_big.json()["error"]["code"] == "too_large"
    assert Task.objects.filter(project=project).count() == 0


@pytest.mark.django_db
def test_publication_below_the_pay_floor_names_floor_rate_and_minimum(org_api, organization):
    project = factories.make_project(organization, tasks=1, publish=False, pay_per_task="0.0500", estimated_seconds=12)
    factories.make_active_dua(organization)
    response = org_api.post(f"/api/v1/projects/{project.pk}/publish/")
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "below_pay_floor"
    assert (error["pay_floor_hourly"], error["effective_hourly_pay"], error["minimum_pay_per_task"]) == ("20.00", "15.00", "0.0667")
    assert "USD 20.00/hour" in error["message"]
    assert Project.objects.get(pk=project.pk).status == "draft"


def _image_rows(n: int) -> list[dict]:
    return [{"external_id": f"img-{i}", "data": {"image": factories.png_base64(f"t{i}"), "hint": f"h{i}"}} for i in range(n)]


@pytest.mark.django_db
def test_a_large_import_checks_images_in_worker_processes_and_keeps_the_order(organization, settings, tmp_path, monkeypatch):
    import base64

    from marketplace.services import importing
    from marketplace.task_types import task_content_hash

    settings.MEDIA_ROOT = tmp_path
    monkeypatch.setattr(importing, "BATCH_SIZE", 4)  # 11 rows: three batches, so the process pool starts
    project = _project(organization)
    rows = _image_rows(11)
    rows[5]["gold"] = "t5"
    report = importing.tasks_import(project=project, rows=enumerate(rows, start=1))
    assert (report.imported, report.gold) == (11, 1)
    tasks = list(Task.objects.filter(project=project).order_by("pk"))
    assert [t.external_id for t in tasks] == [f"img-{i}" for i in range(11)]  # claimed in pk order: the file's order
    for task, row in zip(tasks, rows):
        raw = base64.b64decode(row["data"]["image"])
        assert task.image.name.startswith(f"tasks/{project.pk}/") and task.image.name.endswith(".png")
        assert default_storage.open(task.image.name).read() == raw
        assert task.content_hash == task_content_hash({"hint": row["data"]["hint"]}, raw)
        assert task.data == {"hint": row["data"]["hint"]} and task.required_answers == project.overlap
    assert tasks[5].is_gold and tasks[5].gold == "t5" and not tasks[4].is_gold


@pytest.mark.django_db
def test_adversarial_a_bad_image_deep_in_a_large_import_leaves_no_task_and_no_file(organization, settings, tmp_path, monkeypatch):
    from coop.errors import ApplicationError
    from marketplace.services import importing

    settings.MEDIA_ROOT = tmp_path
    monkeypatch.setattr(importing, "BATCH_SIZE", 4)
    project = _project(organization)
    rows = _image_rows(14)
    rows[9]["data"]["image"] = "aGVsbG8="  # "hello": not an image, in the third batch
    rows[12]["external_id"] = "img-2"  # a duplicate of a row already inserted two batches earlier
    rows[13] = {"external_id": "x", "data": {"image": factories.png_base64(), "colour": "red"}}
    with pytest.raises(ApplicationError) as refused:
        importing.tasks_import(project=project, rows=enumerate(rows, start=1))
    listed = refused.value.extra["rows"]
    by_line = {row["line"]: row for row in listed}
    assert sorted(by_line) == [10, 13, 14] and [by_line[n]["external_id"] for n in (10, 13, 14)] == ["img-9", "img-2", "x"]
    assert "not a readable PNG or JPEG" in by_line[10]["message"] and "already exists" in by_line[13]["message"]
    assert "Unknown fields in data: colour" in by_line[14]["message"]
    assert refused.value.extra["duplicates"] == ["img-2"]
    assert Task.objects.filter(project=project).count() == 0
    assert not [p for p in tmp_path.rglob("*") if p.is_file()]


@pytest.mark.django_db
def test_adversarial_a_failed_import_whose_file_list_went_to_disk_still_removes_every_file(organization, settings, tmp_path, monkeypatch):
    """The names of written images wait in a temporary file (not a list: a million of them held ~100 MB);
    past its in-memory size it lives on disk, and a late failure still finds and deletes every file."""
    from coop.errors import ApplicationError
    from marketplace.services import importing

    settings.MEDIA_ROOT = tmp_path
    monkeypatch.setattr(importing, "BATCH_SIZE", 4)
    monkeypatch.setattr(importing, "SAVED_NAMES_IN_MEMORY", 1)  # the first name already goes to disk
    project = _project(organization)
    rows = _image_rows(14)
    rows[13]["data"]["image"] = "aGVsbG8="  # not an image, in the last batch: 13 files are written first
    written = []
    real_write = importing._Importer.receive

    def receive(self):
        real_write(self)
        written.append((self.saved_files._rolled, len([p for p in tmp_path.rglob("*") if p.is_file()])))

    monkeypatch.setattr(importing._Importer, "receive", receive)
    with pytest.raises(ApplicationError):
        importing.tasks_import(project=project, rows=enumerate(rows, start=1))
    assert written[-1][0] is True and max(files for _, files in written) >= 12  # names on disk, files written
    assert Task.objects.filter(project=project).count() == 0
    assert not [p for p in tmp_path.rglob("*") if p.is_file()]
