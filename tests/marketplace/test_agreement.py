"""Agreement by task type: Krippendorff's alpha (nominal, per label, ordinal per rubric dimension), Kendall's W
for rankings; per worker against the accepted labels; for clients by project and for members about their own work."""

import pytest
from rest_framework.test import APIClient

from marketplace import agreement
from marketplace.services import claiming, submission
from tests import factories

pytestmark = pytest.mark.django_db


def _answer(project, worker, payload, key):
    lease = claiming.work_next(worker=worker, project=project).assignment
    submission.assignment_submit(worker=worker, assignment_id=lease.pk, payload=payload, idempotency_key=key)


def test_kendalls_w_and_tau_on_known_rankings():
    same = [[[0], [1], [2]], [[0], [1], [2]], [[0], [1], [2]]]
    assert agreement.kendall_w(same) == 1.0
    assert agreement.kendall_w([[[0], [1], [2]], [[2], [1], [0]]]) == 0.0
    assert agreement.kendall_tau_b([[0], [1], [2]], [[0], [1], [2]]) == 1.0
    assert agreement.kendall_tau_b([[0], [1], [2]], [[2], [1], [0]]) == -1.0
    assert agreement.kendall_tau_b([[0, 1], [2]], [[0], [1], [2]]) == pytest.approx(0.816, abs=0.001)  # tau-b's tie correction


def test_classification_alpha_for_the_client_and_the_members_own_figures(org_api, organization):
    project = factories.make_project(organization, task_type="classification", tasks=3, overlap=3, max_overlap=3, agreement_target="0.6")
    raters = [factories.make_member() for _ in range(3)]
    votes = [["positive", "positive", "positive"], ["negative", "negative", "negative"], ["neutral", "neutral", "positive"]]
    for rater_index, rater in enumerate(raters):
        for task_index in range(3):
            _answer(project, rater, {"choice": votes[task_index][rater_index]}, f"{rater_index}-{task_index}")
    figures = org_api.get(f"/api/v1/projects/{project.pk}/agreement/").json()
    assert figures["project"]["measure"] == "krippendorff_alpha" and figures["project"]["level"] == "nominal"
    assert 0.5 < figures["project"]["value"] < 1  # two tasks unanimous, one split 2–1
    workers = {w["worker"]: w for w in figures["workers"]}
    assert len(workers) == 3 and all(w.startswith("w_") for w in workers)
    assert sorted(w["agreement_with_label"] for w in workers.values()) == [0.667, 1.0, 1.0]

    member_api = APIClient()
    member_api.force_authenticate(raters[2])
    mine = member_api.get("/api/v1/work/agreement/").json()["projects"]
    assert mine == [{"project_id": project.pk, "title": project.title, "task_type": "classification", "answers": 3, "agreement_with_label": 0.667}]


def test_rubric_alpha_per_dimension_and_ranking_w(organization):
    rubric = factories.make_project(organization, task_type="rubric", tasks=2, overlap=2, max_overlap=2)
    a, b = factories.make_member(), factories.make_member()
    for key, scores in (("1", (4, 2)), ("2", (1, 0))):
        _answer(rubric, a, {"scores": {"accuracy": scores[0], "tone": scores[1]}, "rationales": {"accuracy": "Because."}}, key + "a")
        _answer(rubric, b, {"scores": {"accuracy": scores[0], "tone": scores[1]}, "rationales": {"accuracy": "Agreed."}}, key + "b")
    figures = agreement.project_agreement(project=rubric)
    assert figures["level"] == "ordinal" and figures["per_dimension"] == {"accuracy": 1.0, "tone": 1.0} and figures["value"] == 1.0

    ranking = factories.make_project(organization, task_type="ranking", tasks=1, overlap=2, max_overlap=2)
    _answer(ranking, a, {"order": [[0], [1], [2]]}, "ra")
    _answer(ranking, b, {"order": [[2], [1], [0]]}, "rb")
    assert agreement.project_agreement(project=ranking) == {
        "task_type": "ranking", "tasks_with_several_answers": 1, "measure": "kendall_w", "value": 0.0
    }


def test_rewrites_have_no_agreement_measure(organization):
    rewrite = factories.make_project(organization, task_type="rewrite", tasks=1, overlap=1)
    assert agreement.project_agreement(project=rewrite)["measure"] is None
