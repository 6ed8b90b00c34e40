"""Model-assisted labeling: a guess only when the model is confident, and `edited` computed from what the server served.

The model's reading is stubbed (`run_model`): these tests are about which
guess is shown and how the answer is recorded, not about the network.
"""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from marketplace.models import Answer
from mlops import prefill
from mlops.models import PrefillServed
from mlops.services.snapshots import snapshot_create
from tests import factories

from .conftest import digit_texts, labelled_project, registered_version

pytestmark = pytest.mark.django_db


@pytest.fixture
def assisted(steward, organization, settings):
    settings.MLOPS_PREFILL_MIN_CONFIDENCE = 0.9
    project = labelled_project(organization, 3, unlabelled=2, model_assisted=True)
    version = registered_version(snapshot_create(actor=steward, name="captcha", projects=[project]), promoted=True)
    return project, version


def _reading(monkeypatch, text, confidence):
    monkeypatch.setattr(prefill, "run_model", lambda version, images: [{"text": text, "confidence": confidence}] * len(images))


def _worker_api():
    api = APIClient()
    api.force_authenticate(factories.make_member())
    return api


def _next(api, project):
    response = api.post("/api/v1/work/next/", {"project": project.pk}, format="json")
    assert response.status_code == 200, response.content
    return response.json()


def _submit(api, work, text, **extra):
    return api.post(f"/api/v1/work/assignments/{work['assignment']['id']}/submit/", {"answer": {"text": text}, **extra},
                    format="json", HTTP_IDEMPOTENCY_KEY=f"k{work['assignment']['id']}")


def test_an_unsure_model_prefills_nothing(assisted, monkeypatch):
    project, _ = assisted
    _reading(monkeypatch, "1234", 0.42)
    work = _next(_worker_api(), project)
    assert "prefill" not in work["task"]["data"]
    assert not PrefillServed.objects.exists()


def test_a_confident_guess_is_shown_and_recorded_for_the_assignment(assisted, monkeypatch):
    project, version = assisted
    _reading(monkeypatch, "1234", 0.97)
    work = _next(_worker_api(), project)
    assert work["task"]["data"]["prefill"] == "1234"
    served = PrefillServed.objects.get(assignment_id=work["assignment"]["id"])
    assert (served.text, served.model_version_id, served.confidence) == ("1234", version.pk, 0.97)


def test_adversarial_the_client_cannot_decide_edited(assisted, monkeypatch):
    project, _ = assisted
    _reading(monkeypatch, "1234", 0.97)
    # Kept the guess but says it saw none: still an unedited model-assisted answer.
    api = _worker_api()
    work = _next(api, project)
    assert _submit(api, work, "1234", prefilled="").status_code == 201
    answer = Answer.objects.get(assignment_id=work["assignment"]["id"])
    assert (answer.prefilled, answer.edited) == ("1234", False)
    # Changed the guess but claims the guess was its own text: recorded as edited.
    api = _worker_api()
    work = _next(api, project)
    assert _submit(api, work, "9999", prefilled="9999").status_code == 201
    answer = Answer.objects.get(assignment_id=work["assignment"]["id"])
    assert (answer.prefilled, answer.edited) == ("1234", True)


def test_adversarial_a_prefilled_claim_without_a_served_guess_records_nothing(steward, organization, monkeypatch, settings):
    settings.MLOPS_PREFILL_MIN_CONFIDENCE = 0.9
    project = labelled_project(organization, 0, unlabelled=1, model_assisted=True)  # no model: nothing is served
    api = _worker_api()
    work = _next(api, project)
    assert _submit(api, work, digit_texts(1)[0], prefilled="5555").status_code == 201
    answer = Answer.objects.get(assignment_id=work["assignment"]["id"])
    assert (answer.prefilled, answer.edited) == ("", None)


def test_a_model_whose_training_right_was_withdrawn_prefills_nothing(assisted, monkeypatch):
    from governance import services as governance
    from governance.signals import dua_rights_changed
    from mlops.rights import retire_models_on_rights_change

    project, version = assisted
    _reading(monkeypatch, "1234", 0.99)
    dua_rights_changed.disconnect(retire_models_on_rights_change, dispatch_uid="mlops.rights_apply_for_dua")
    try:  # even with nobody told, the hook checks today's agreement itself
        amendment = governance.dua_amend(actor=factories.make_steward(), dua=project.dua, train_models=False,
                                         publish_trained_models=False, permitted_purposes=["evaluation"])
        factories.ratify_by_vote(amendment)
    finally:
        dua_rights_changed.connect(retire_models_on_rights_change, dispatch_uid="mlops.rights_apply_for_dua")
    work = _next(_worker_api(), project)
    assert "prefill" not in work["task"]["data"]
    version.refresh_from_db()
    assert version.retired_at is not None
