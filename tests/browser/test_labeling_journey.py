"""A member labels OCR tasks in Chromium (keyboard only), then the client fetches the results through the API."""

import json
import time

import pytest

from marketplace.models import AcceptedLabel, Assignment
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
        if i == 0:  # while the first task is on screen the next one is leased already (prefetch): no wait after submit
            shown = int(page.locator("#task-area").get_attribute("data-task-id"))
            held = []
            for _ in range(50):
                held = in_thread(lambda: sorted(Assignment.objects.filter(worker=member, state="leased").values_list("task_id", flat=True)))
                if len(held) == 2:
                    break
                time.sleep(0.1)
            assert len(held) == 2 and shown in held
        field.fill(f"code{i}")
        field.press("Enter")  # keyboard-first: Enter submits and the next task loads without a reload
        page.wait_for_function(f"document.getElementById('done-count').textContent === '{i + 1}'")
    page.get_by_test_id("no-work").wait_for()
    assert AcceptedLabel.objects.filter(project=project).count() == 3
    assert not Assignment.objects.filter(worker=member, state="leased").exists()  # nothing left held

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


def _answers(project):
    from marketplace.models import Answer

    return in_thread(lambda: list(Answer.objects.filter(task__project=project).values_list("payload", flat=True)))


def test_adversarial_enter_on_a_focused_button_never_submits_a_half_typed_answer(page):
    """Enter or Space on a focused control activates that control; only the answer box (or Submit) submits."""
    organization = in_thread(factories.make_organization, "Keyboard Trap Co")
    project = in_thread(factories.make_project, organization, tasks=2, overlap=1, title="Half typed")
    member = in_thread(factories.make_member, "trap@example.org")
    sign_in(page, member.email, factories.PASSWORD)

    page.goto(f"/work/projects/{project.pk}/label/")
    page.wait_for_selector("#task-area[data-task-id]")
    assert "per task" in page.get_by_test_id("task-pay").inner_text()
    first_task = page.locator("#task-area").get_attribute("data-task-id")
    page.get_by_test_id("answer-input").fill("AB")  # half of a four-character code

    page.get_by_test_id("zoom-in").focus()
    page.keyboard.press("Enter")  # zooms, does not submit
    assert page.get_by_test_id("zoom-level").inner_text() == "150%"
    page.keyboard.press(" ")  # Space on the same button zooms again
    assert page.get_by_test_id("zoom-level").inner_text() == "225%"
    page.get_by_test_id("zoom-out").focus()
    page.keyboard.press("Enter")
    assert page.get_by_test_id("zoom-level").inner_text() == "150%"
    page.locator("details summary").first.focus()
    page.keyboard.press("Enter")  # opens the instructions, does not submit
    page.wait_for_timeout(300)
    assert _answers(project) == []
    assert page.locator("#task-area").get_attribute("data-task-id") == first_task

    page.get_by_test_id("skip").focus()
    page.keyboard.press("Enter")  # Enter on Skip skips (no answer)
    page.wait_for_function("id => document.getElementById('task-area').dataset.taskId !== id", arg=first_task)
    assert _answers(project) == []

    field = page.get_by_test_id("answer-input")
    field.fill("ABCD")
    field.press("Enter")  # from the answer box, Enter submits
    page.get_by_test_id("submit-confirmation").wait_for()
    assert "submitted" in page.get_by_test_id("submit-confirmation").inner_text()
    assert _answers(project) == [{"text": "ABCD"}]


def test_adversarial_choice_buttons_select_on_enter_and_space_without_submitting(page):
    organization = in_thread(factories.make_organization, "Choice Keys Co")
    project = in_thread(factories.make_project, organization, task_type="classification", tasks=1, title="Pick one")
    member = in_thread(factories.make_member, "choices@example.org")
    sign_in(page, member.email, factories.PASSWORD)

    page.goto(f"/work/projects/{project.pk}/label/")
    page.wait_for_selector("#task-area[data-task-id]")
    page.locator("[data-choice=negative]").focus()
    page.keyboard.press("Enter")
    assert page.locator("[data-choice=negative]").get_attribute("aria-pressed") == "true"
    page.locator("[data-choice=positive]").focus()
    page.keyboard.press(" ")
    assert page.locator("[data-choice=positive]").get_attribute("aria-pressed") == "true"
    page.wait_for_timeout(300)
    assert _answers(project) == []
    page.get_by_test_id("submit").focus()
    page.keyboard.press("Enter")  # Enter on Submit submits the chosen answer
    page.get_by_test_id("no-work").wait_for()
    assert _answers(project) == [{"choice": "positive"}]


def test_an_idle_tab_stops_renewing_its_lease(page):
    organization = in_thread(factories.make_organization, "Idle Co")
    project = in_thread(factories.make_project, organization, tasks=1, overlap=1, title="Idle tab")
    member = in_thread(factories.make_member, "idle@example.org")
    sign_in(page, member.email, factories.PASSWORD)

    heartbeats = []
    page.on("request", lambda request: heartbeats.append(request.url) if request.url.endswith("/heartbeat/") else None)
    page.clock.install()
    page.goto(f"/work/projects/{project.pk}/label/")
    page.wait_for_selector("#task-area[data-task-id]")
    page.mouse.move(10, 10)
    page.clock.run_for(60_000)  # the member is there: the lease is renewed
    page.wait_for_timeout(300)
    assert heartbeats, "an attended tab sends heartbeats"
    page.clock.run_for(90_000)  # two minutes and a half since the last input
    page.wait_for_timeout(300)
    heartbeats.clear()
    page.clock.run_for(120_000)  # idle: no renewal, the lease runs out and the task goes back
    page.wait_for_timeout(300)
    assert heartbeats == []
    page.mouse.move(20, 20)  # back at the keyboard: renewals resume
    page.clock.run_for(16_000)
    page.wait_for_timeout(300)
    assert heartbeats
