"""A client, in Chromium: signs in, creates a project, imports a JSON Lines file, publishes, watches progress, downloads results."""

import json
import re

import pytest

from tests import factories
from tests.browser.conftest import in_thread, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _client_with_agreement_and_money():
    organization = factories.make_organization("Sentiment Co")
    user = factories.make_client_user(organization, email="casey@sentiment.example")
    factories.make_active_dua(organization)  # members ratified a contract and DUA (model training, evaluation)
    factories.deposit(organization, "50.00", reference="BANK-JOURNEY")  # the stewards recorded the client's transfer
    return user


def _labeler_token() -> str:
    from coop import services

    member = factories.make_member("labeler@example.org")
    return services.api_token_create(actor=member, user=member, name="labeling").plaintext


def _members_label_everything(page, server_url: str, project_id: int, token: str) -> None:
    """A member labels every task through the worker API of the running server (whose channel layer the console hears)."""
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    for i in range(3):
        lease = page.request.post(f"{server_url}/api/v1/work/next/", data=json.dumps({"project": project_id}), headers=headers)
        assert lease.status == 200, lease.text()
        assignment = lease.json()["assignment"]["id"]
        answer = page.request.post(
            f"{server_url}/api/v1/work/assignments/{assignment}/submit/",
            data=json.dumps({"answer": {"choice": "positive"}}),
            headers={**headers, "Idempotency-Key": f"k{i}"},
        )
        assert answer.ok, answer.text()


def test_client_creates_imports_publishes_watches_and_downloads(page, tmp_path, asgi_live_server):
    user = in_thread(_client_with_agreement_and_money)
    token = in_thread(_labeler_token)
    sign_in(page, user.email, factories.PASSWORD)

    page.get_by_test_id("nav-console").click()
    page.get_by_test_id("new-project").click()
    page.fill("#id_title", "Product reviews")
    page.select_option("#id_task_type", "classification")
    page.fill("#id_instructions", "Is the review **positive** or **negative**?")
    page.fill("#id_choices", "positive\nnegative")
    page.fill("#id_pay_per_task", "0.50")
    page.fill("#id_estimated_seconds", "30")
    page.fill("#id_overlap", "1")
    page.fill("#id_max_overlap", "1")
    page.fill("#id_gold_ratio", "0")
    page.get_by_test_id("save-project").click()
    page.wait_for_url(re.compile(r"/client/projects/\d+/$"))
    assert page.get_by_test_id("project-status").inner_text() == "Draft"
    project_id = int(re.search(r"/client/projects/(\d+)/", page.url).group(1))

    upload = tmp_path / "reviews.jsonl"
    upload.write_text("\n".join(json.dumps({"external_id": f"r-{i}", "data": {"text": f"Review number {i}: great"}}) for i in range(3)) + "\n")
    page.set_input_files("#id_file", str(upload))
    page.get_by_test_id("import").click()
    page.get_by_test_id("import-result").get_by_text("Imported 3 tasks").wait_for()
    page.wait_for_function("document.querySelector('[data-testid=task-count]').textContent === '3'")  # progress refreshed
    page.wait_for_function("document.querySelectorAll('[data-testid=task-row]').length === 3")  # the task list too, without a reload

    page.get_by_test_id("publish").click()
    page.wait_for_url(re.compile(rf"/client/projects/{project_id}/$"))
    assert page.get_by_test_id("project-status").inner_text() == "Published"
    assert page.get_by_test_id("percent-done").inner_text() == "0.0%"

    page.wait_for_function("document.body.dataset.progressLive === 'true'")  # the live progress WebSocket is open
    _members_label_everything(page, asgi_live_server.url, project_id, token)
    # Each answer is pushed over the WebSocket and the panel re-reads itself: well before its 30-second poll.
    page.wait_for_function("document.querySelector('[data-testid=percent-done]').textContent === '100.0%'", timeout=10_000)

    page.reload()
    page.select_option("#purpose", "evaluation")
    with page.expect_download() as download_info:
        page.get_by_test_id("download-results").click()
    rows = [json.loads(line) for line in open(download_info.value.path()).read().splitlines()]
    assert sorted(r["external_id"] for r in rows) == ["r-0", "r-1", "r-2"]
    assert {r["label"]["choice"] for r in rows} == {"positive"} and "labeler@example.org" not in json.dumps(rows)
