"""Ranking, rubric, multi-label and rewrite tasks: validation, consensus, review, gold and the pairs they export."""

import json

import pytest

from coop.errors import ApplicationError
from marketplace.models import AcceptedLabel, Answer, Task
from marketplace.services import claiming, importing, projects, review, submission
from tests import factories

pytestmark = pytest.mark.django_db

RANKING_ROW = {"external_id": "r1", "data": {"prompt": "Explain tides.", "responses": ["Moon pulls water.", "Wind.", "Gravity of moon and sun."]}}
RUBRIC = {
    "dimensions": [
        {"key": "accuracy", "label": "Accuracy", "scale": ["1", "2", "3", "4", "5"], "rationale": "required"},
        {"key": "helpfulness", "label": "Helpfulness", "scale": ["1", "2", "3", "4", "5"], "rationale": "optional"},
        {"key": "safety", "label": "Safety", "scale": ["unsafe", "borderline", "safe"], "rationale": "none"},
    ],
    "tolerance": 1,
}


def _project(task_type, rows, *, overlap=2, **fields):
    organization = factories.make_organization()
    project = projects.project_create(
        organization=organization, task_type=task_type, title=f"{task_type} project", instructions="Judge carefully.",
        pay_per_task="0.40", estimated_seconds=60, overlap=overlap, max_overlap=overlap, agreement_target="0.66", **fields,
    )
    importing.tasks_import(project=project, rows=enumerate(rows, start=1))
    factories.make_active_dua(organization, task_types=(task_type,))
    factories.fund_project(project)
    return projects.project_publish(project=project)


def _submit(project, payload, worker=None):
    worker = worker or factories.make_member()
    lease = claiming.work_next(worker=worker, project=project).assignment
    return submission.assignment_submit(worker=worker, assignment_id=lease.pk, payload=payload, idempotency_key="k")[0]


_TRIER: dict[int, object] = {}


def _trier(project):
    """One member per project who keeps trying (and keeps their one lease) until an answer is accepted."""
    return _TRIER.get(project.pk) or _TRIER.setdefault(project.pk, factories.make_member())


def _refused(project, payload):
    with pytest.raises(ApplicationError) as error:
        _submit(project, payload, _trier(project))
    return error.value


@pytest.fixture(autouse=True)
def _fresh_trier():
    _TRIER.clear()


class TestRanking:
    def test_an_order_of_every_response_is_the_answer_and_matching_orders_agree(self):
        project = _project("ranking", [RANKING_ROW], task_config={"allow_ties": False})
        assert "order" in _refused(project, {"order": [[2], [0]]}).fields  # one response left out
        assert "order" in _refused(project, {"order": [[2], [0], [0]]}).fields  # one twice
        assert "order" in _refused(project, {"order": [[2, 0], [1]]}).fields  # a tie the project does not allow
        _submit(project, {"order": [[2], [0], [1]]}, _trier(project))
        _submit(project, {"order": [[2], [0], [1]]})
        label = AcceptedLabel.objects.get()
        assert label.label == {"order": [[2], [0], [1]]} and str(label.agreement) == "1.000"

    def test_ties_where_allowed_and_bad_task_data_refused_at_import(self):
        project = _project("ranking", [RANKING_ROW], overlap=1, task_config={"allow_ties": True})
        _submit(project, {"order": [[2, 0], [1]]})
        assert AcceptedLabel.objects.get().label == {"order": [[0, 2], [1]]}
        with pytest.raises(ApplicationError):
            importing.tasks_import(project=project, rows=enumerate([{"external_id": "x", "data": {"prompt": "p", "responses": ["only one"]}}], 1))

    def test_a_conversation_prompt_is_accepted_and_a_bad_turn_refused(self):
        chat = [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello!"}, {"role": "user", "content": "Tides?"}]
        project = _project("ranking", [{"external_id": "c", "data": {"prompt": chat, "responses": ["a", "b"]}}], overlap=1)
        assert Task.objects.get(project=project).data["prompt"] == chat
        with pytest.raises(ApplicationError):
            importing.tasks_import(
                project=project, rows=enumerate([{"external_id": "d", "data": {"prompt": [{"role": "robot", "content": "x"}], "responses": ["a", "b"]}}], 1)
            )


class TestRubric:
    def test_answers_within_the_tolerance_agree_and_rationales_follow_the_dimension(self):
        project = _project("rubric", [{"external_id": "u", "data": {"prompt": "Q?", "response": "A."}}], task_config=RUBRIC)
        missing = _refused(project, {"scores": {"accuracy": 3, "helpfulness": 2, "safety": 2}})
        assert "rationales.accuracy" in missing.fields  # required for accuracy
        assert "scores.safety" in _refused(project, {"scores": {"accuracy": 3, "helpfulness": 2, "safety": 3}, "rationales": {"accuracy": "ok"}}).fields
        assert "scores" in _refused(project, {"scores": {"accuracy": 3}, "rationales": {"accuracy": "ok"}}).fields
        _submit(project, {"scores": {"accuracy": 3, "helpfulness": 2, "safety": 2}, "rationales": {"accuracy": "Mostly right.", "safety": "dropped"}}, _trier(project))
        _submit(project, {"scores": {"accuracy": 4, "helpfulness": 2, "safety": 2}, "rationales": {"accuracy": "Right, terse."}})
        label = AcceptedLabel.objects.get()
        assert label.label["scores"]["helpfulness"] == 2 and label.label["rationales"]["accuracy"] == ["Mostly right.", "Right, terse."]
        assert "safety" not in json.dumps(label.label["rationales"])  # a dimension without rationale keeps none
        assert Answer.objects.filter(agrees_with_label=True).count() == 2

    def test_answers_further_apart_than_the_tolerance_go_to_review(self):
        project = _project("rubric", [{"external_id": "u", "data": {"prompt": "Q?", "response": "A."}}], task_config=RUBRIC)
        _submit(project, {"scores": {"accuracy": 0, "helpfulness": 2, "safety": 2}, "rationales": {"accuracy": "Wrong."}})
        _submit(project, {"scores": {"accuracy": 4, "helpfulness": 2, "safety": 2}, "rationales": {"accuracy": "Right."}})
        assert Task.objects.get(project=project).state == "review" and not AcceptedLabel.objects.exists()

    def test_a_rubric_needs_dimensions_with_scales(self):
        with pytest.raises(ApplicationError) as error:
            projects.project_create(
                organization=factories.make_organization(), task_type="rubric", title="t", instructions="i", pay_per_task="0.3",
                estimated_seconds=60, task_config={"dimensions": [{"key": "x", "scale": ["only"]}]},
            )
        assert "task_config.dimensions[0].scale" in error.value.fields


class TestMultilabel:
    def test_the_same_set_in_any_order_is_the_same_answer(self):
        rows = [{"external_id": "m", "data": {"text": "A sunny beach with a dog."}}]
        project = _project("multilabel", rows, choices=["dog", "cat", "beach"], task_config={"min_choices": 1})
        assert "choices" in _refused(project, {"choices": []}).fields
        assert "choices" in _refused(project, {"choices": ["dog", "dog"]}).fields
        _submit(project, {"choices": ["beach", "dog"]}, _trier(project))
        _submit(project, {"choices": ["dog", "beach"]})
        assert AcceptedLabel.objects.get().label == {"choices": ["dog", "beach"]}


class TestRewrite:
    def test_rewrites_are_reviewed_not_matched_and_have_no_gold(self, steward):
        rows = [{"external_id": "w", "data": {"prompt": "Explain DNS.", "response": "dns is names"}}]
        project = _project("rewrite", rows)
        first = _submit(project, {"text": "DNS maps names such as example.org to addresses."})
        _submit(project, {"text": "DNS maps names such as example.org to addresses."})  # identical: still a review
        task = Task.objects.get(project=project)
        assert task.state == "review" and not AcceptedLabel.objects.exists()
        review.task_review_accept(reviewer=steward, task=task, answer=first)
        assert AcceptedLabel.objects.get().label == {"text": "DNS maps names such as example.org to addresses."}
        with pytest.raises(ApplicationError):
            importing.tasks_import(project=project, rows=enumerate([{**rows[0], "external_id": "g", "gold": {"text": "x"}}], 1))


def test_ranking_labels_export_every_pair_in_trls_shape(org_api, organization):
    project = projects.project_create(
        organization=organization, task_type="ranking", title="rank", instructions="Order them.", pay_per_task="0.40",
        estimated_seconds=60, overlap=1, max_overlap=1,
    )
    importing.tasks_import(project=project, rows=enumerate([RANKING_ROW], 1))
    factories.make_active_dua(organization)
    factories.fund_project(project)
    project = projects.project_publish(project=project)
    _submit(project, {"order": [[2], [0], [1]]})
    body = b"".join(org_api.get(f"/api/v1/projects/{project.pk}/preferences/", {"purpose": "model_training"}).streaming_content)
    pairs = [json.loads(line) for line in body.decode().splitlines()]
    responses = RANKING_ROW["data"]["responses"]
    assert [(p["chosen"], p["rejected"]) for p in pairs] == [
        (responses[2], responses[0]), (responses[2], responses[1]), (responses[0], responses[1])
    ]
    assert all(set(p) == {"prompt", "chosen", "rejected"} and p["prompt"] == "Explain tides." for p in pairs)


@pytest.mark.parametrize(
    ("task_type", "answer", "field"),
    [
        ("ranking", {"order": [[0], [1]]}, "order"),  # a response left out
        ("rubric", {"scores": {"accuracy": 9, "tone": 1}, "rationales": {"accuracy": "x"}}, "scores.accuracy"),  # off the scale
        ("rubric", {"scores": {"accuracy": 2, "tone": 1}, "rationales": {"accuracy": "x" * 2001}}, "rationales.accuracy"),  # too long
        ("multilabel", {"choices": ["delivery", "spam"]}, "choices"),
        ("rewrite", {"text": ""}, "text"),
    ],
)
def test_adversarial_bad_answers_get_a_400_naming_the_field_through_the_api(task_type, answer, field):
    from rest_framework.test import APIClient

    project = factories.make_project(factories.make_organization(), task_type=task_type, tasks=1, overlap=1)
    api = APIClient()
    api.force_authenticate(factories.make_member())
    lease = api.post("/api/v1/work/next/", {"project": project.pk}, format="json").json()["assignment"]["id"]
    response = api.post(f"/api/v1/work/assignments/{lease}/submit/", {"answer": answer}, format="json", HTTP_IDEMPOTENCY_KEY="k1")
    assert response.status_code == 400 and field in response.json()["error"]["fields"], response.content
    assert not Answer.objects.exists()
