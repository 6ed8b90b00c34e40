"""A member labels OCR tasks in Chromium (keyboard only), then the client fetches the results through the API."""

import json

import pytest

from marketplace.models import AcceptedLabel
from tests import factories
from tests.browser.conftest import in_thread, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_member_labels_ocr_tasks_and_client_fetches_results(page, asgi_live_server):
    organization = in_thread(factories.make_organization, "Captcha Co")
    project = in_thread(factories.make_project, organization, tasks=3, overlap=1, title="Read the codes")
    token = in_thread(factories.org_token, organization)
    member = in_thread(factories.make_member, "labeler@example.org")

    sign_in(page, member.email, factories.PASSWORD)

    page.goto("/work/")
    page.get_by_test_id(f"start-{project.pk}").click()
    seen = set()
    for i in range(3):
        # Wait until a task we have not seen is on screen (the next one loads without a page reload).
        page.wait_for_function(
            "seen => { const id = document.getElementById('task-area').dataset.taskId; return id && !seen.includes(id); }", arg=sorted(seen)
        )
        seen.add(page.locator("#task-area").get_attribute("data-task-id"))
        field = page.get_by_test_id("answer-input")
        page.wait_for_function("() => { const img = document.querySelector('[data-testid=task-image]'); return img && img.complete && img.naturalWidth > 0; }")
        page.wait_for_function("() => /^\\d+:\\d\\d$/.test(document.getElementById('lease-timer').textContent)")
        field.fill(f"code{i}")
        field.press("Enter")  # keyboard-first: Enter submits and the next task loads without a reload
        page.wait_for_function(f"document.getElementById('done-count').textContent === '{i + 1}'")
    page.get_by_test_id("no-work").wait_for()
    assert AcceptedLabel.objects.filter(project=project).count() == 3

    response = page.request.get(
        f"{asgi_live_server.url}/api/v1/projects/{project.pk}/results/?purpose=model_training", headers={"Authorization": f"Bearer {token}"}
    )
    assert response.ok
    rows = [json.loads(line) for line in response.text().splitlines()]
    assert sorted(r["label"]["text"] for r in rows) == ["code0", "code1", "code2"]
    assert all(r["annotators"][0].startswith("w_") for r in rows)


def test_classification_and_pairwise_screens_are_keyboard_first(page):
    organization = in_thread(factories.make_organization, "Keys Co")
    classification = in_thread(factories.make_project, organization, task_type="classification", tasks=1, title="Sentiment")
    pairwise = in_thread(factories.make_project, organization, task_type="pairwise", tasks=1, title="Which answer is better")
    member = in_thread(factories.make_member, "keys@example.org")

    sign_in(page, member.email, factories.PASSWORD)

    page.goto(f"/work/projects/{classification.pk}/label/")
    page.wait_for_selector("#task-area[data-task-id]")
    page.keyboard.press("2")  # the second choice: "negative"
    assert page.locator("[data-choice=negative]").get_attribute("aria-pressed") == "true"
    page.keyboard.press("Enter")
    page.get_by_test_id("no-work").wait_for()

    page.goto(f"/work/projects/{pairwise.pk}/label/")
    page.wait_for_selector("#task-area[data-task-id]")
    assert "Q0?" in page.locator("#task-area").inner_text()
    page.keyboard.press("b")
    page.keyboard.press("Enter")
    page.get_by_test_id("no-work").wait_for()

    labels = dict(AcceptedLabel.objects.filter(project__organization=organization).values_list("project__task_type", "value"))
    assert labels == {"classification": "negative", "pairwise": "b"}
