"""The RLHF screens in Chromium, keyboard only: ranking (digits place, arrows move), rubric (digits rate each
dimension), multi-label (digits toggle), rewrite (Ctrl+Enter from the text box), and a conversation prompt."""

import pytest

from marketplace.models import Answer
from tests import factories
from tests.browser.conftest import in_thread, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _open(page, project):
    page.goto(f"/work/projects/{project.pk}/label/")
    page.wait_for_selector("#task-area[data-task-id]")


def _payloads(project):
    return in_thread(lambda: list(Answer.objects.filter(task__project=project).values_list("payload", flat=True)))


def test_rlhf_screens_are_keyboard_first(page):
    organization = in_thread(factories.make_organization, "RLHF Co")
    make = lambda task_type, **fields: in_thread(factories.make_project, organization, task_type=task_type, tasks=1, overlap=1, **fields)  # noqa: E731
    ranking, rubric, tags, rewrite = make("ranking"), make("rubric"), make("multilabel"), make("rewrite")
    member = in_thread(factories.make_member, "rater@example.org")
    sign_in(page, member.email, factories.PASSWORD)

    # Ranking: 3 then 1 then 2 places them in that order; ↑ moves the selected (last placed) one up.
    _open(page, ranking)
    for key in ("3", "1", "2"):
        page.keyboard.press(key)
    page.keyboard.press("ArrowUp")  # "second" moves above "first"
    assert page.get_by_test_id("ranking").inner_text().split("\n")[0].startswith("Response 3")
    page.keyboard.press("Enter")
    page.get_by_test_id("no-work").wait_for()
    assert _payloads(ranking) == [{"order": [[2], [1], [0]]}]

    # Rubric: the digit rates the highlighted dimension and moves to the next; the required reason is typed.
    _open(page, rubric)
    page.keyboard.press("4")  # accuracy: 4 of 5
    page.keyboard.press("3")  # tone: kind
    page.locator("[data-rationale=accuracy]").fill("Correct but terse.")
    page.locator("[data-rationale=accuracy]").press("Control+Enter")
    page.get_by_test_id("no-work").wait_for()
    assert _payloads(rubric) == [{"scores": {"accuracy": 3, "tone": 2}, "rationales": {"accuracy": "Correct but terse."}}]

    # Multi-label: digits toggle; pressing one twice takes it back.
    _open(page, tags)
    for key in ("1", "3", "2", "2"):
        page.keyboard.press(key)
    page.keyboard.press("Enter")
    page.get_by_test_id("no-work").wait_for()
    assert _payloads(tags) == [{"choices": ["delivery", "price"]}]

    # Rewrite: the box starts with the response; Enter is a newline, Ctrl+Enter submits.
    _open(page, rewrite)
    box = page.get_by_test_id("answer-rewrite")
    box.fill("A clear, complete answer.")
    box.press("Enter")
    box.type("With a second line.")
    assert _payloads(rewrite) == []
    box.press("Control+Enter")
    page.get_by_test_id("no-work").wait_for()
    assert _payloads(rewrite) == [{"text": "A clear, complete answer.\nWith a second line."}]


def test_a_conversation_prompt_is_shown_as_a_chat(page):
    from marketplace.services import importing, projects

    organization = in_thread(factories.make_organization, "Chat Co")
    project = in_thread(factories.make_project, organization, task_type="pairwise", tasks=0, publish=False)
    chat = [{"role": "user", "content": "Hi, can you help?"}, {"role": "assistant", "content": "Of course."}, {"role": "user", "content": "Tides?"}]

    def publish():
        importing.tasks_import(project=project, rows=enumerate([{"external_id": "c", "data": {"prompt": chat, "response_a": "Moon.", "response_b": "Wind."}}], 1))
        factories.make_active_dua(organization)
        factories.fund_project(project)
        return projects.project_publish(project=project)

    in_thread(publish)
    member = in_thread(factories.make_member, "chat@example.org")
    sign_in(page, member.email, factories.PASSWORD)
    _open(page, project)
    conversation = page.get_by_test_id("conversation")
    assert conversation.locator(".turn").count() == 3 and "Of course." in conversation.inner_text()
    page.keyboard.press("a")
    page.keyboard.press("Enter")
    page.get_by_test_id("no-work").wait_for()
    assert _payloads(project) == [{"preferred": "a", "reason": ""}]
