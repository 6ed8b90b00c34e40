"""Quality gates: what may be promoted, steward overrides with a logged reason, rollback history, best-epoch choice."""

from __future__ import annotations

import pytest

from coop.errors import ApplicationError, Conflict
from governance.models import GovernanceLog
from mlops.models import ModelPromotion, ModelVersion
from mlops.services import registry
from mlops.services.snapshots import snapshot_create
from tests import factories

from .conftest import labelled_project, registered_version, steward_api

pytestmark = pytest.mark.django_db


@pytest.fixture
def snapshot(steward):
    labelled_project(factories.make_organization(), 3)
    return snapshot_create(actor=steward, name="captcha")


@pytest.fixture(autouse=True)
def _gate(settings):
    settings.MLOPS_PROMOTE_MIN_ACCURACY = 0.9


def test_a_model_below_the_minimum_accuracy_is_not_promoted_by_hand_api_or_auto_promote(steward, snapshot):
    chance = registered_version(snapshot, test_seq_acc=0.0)
    with pytest.raises(ApplicationError) as refused:
        registry.model_version_promote(actor=steward, model_version=chance)
    assert refused.value.code == "below_min_accuracy" and "90.0%" in refused.value.message
    with pytest.raises(ApplicationError):
        registry.model_version_promote(actor=None, model_version=chance)  # the auto-promote has no override
    response = steward_api(steward).post(f"/api/v1/mlops/models/{chance.pk}/promote/", {}, format="json")
    assert response.status_code == 422 and response.json()["error"]["code"] == "below_min_accuracy"
    assert response.json()["error"]["gate"]["minimum"] == 0.9
    assert not ModelVersion.objects.filter(promoted=True).exists() and not ModelPromotion.objects.exists()


def test_a_version_without_a_held_out_test_score_is_refused(steward, snapshot):
    untested = registered_version(snapshot, metrics={"test_n": 0})
    with pytest.raises(ApplicationError) as refused:
        registry.model_version_promote(actor=steward, model_version=untested)
    assert refused.value.code == "no_test_accuracy"


def test_no_regression_on_the_same_test_split(steward, snapshot):
    good = registered_version(snapshot, test_seq_acc=0.97, promoted=True)
    worse = registered_version(snapshot, test_seq_acc=0.93)  # above the minimum, below the promoted one on the same split
    with pytest.raises(ApplicationError) as refused:
        registry.model_version_promote(actor=steward, model_version=worse)
    assert refused.value.code == "regression"
    better = registered_version(snapshot, test_seq_acc=0.99)
    assert registry.model_version_promote(actor=steward, model_version=better).promoted
    assert ModelPromotion.objects.get(model_version=better).gate["baseline"] == {"model_version": good.pk, "test_seq_acc": 0.97}


def test_the_baseline_measured_at_training_time_on_the_new_split_decides(steward, snapshot):
    current = registered_version(snapshot, test_seq_acc=0.99, promoted=True)
    # The new version's split differs; the training job scored the promoted model on it: 0.91 there.
    new = registered_version(snapshot, test_seq_acc=0.95, metrics={
        "test_split_hash": "another split", "baseline": {"model_version": current.pk, "test_seq_acc": 0.91}})
    assert registry.model_version_promote(actor=steward, model_version=new).promoted
    # A version whose split nobody scored the promoted one on is not compared with numbers from another split.
    orphan = registered_version(snapshot, test_seq_acc=0.999, metrics={"test_split_hash": "a third split"})
    with pytest.raises(ApplicationError) as refused:
        registry.model_version_promote(actor=steward, model_version=orphan)
    assert refused.value.code == "no_comparable_baseline"


def test_a_steward_overrides_the_gate_with_a_reason_that_is_kept_and_logged(steward, snapshot):
    weak = registered_version(snapshot, test_seq_acc=0.5)
    response = steward_api(steward).post(f"/api/v1/mlops/models/{weak.pk}/promote/",
                                         {"override_reason": "Client asked for an early preview model"}, format="json")
    assert response.status_code == 200 and response.json()["promoted"] is True
    promotion = ModelPromotion.objects.get(model_version=weak)
    assert promotion.override_reason == "Client asked for an early preview model" and promotion.gate["code"] == "below_min_accuracy"
    entry = GovernanceLog.objects.get(action="model.promotion_override")
    assert entry.actor_id == steward.pk and entry.data["reason"] == "Client asked for an early preview model"


def test_adversarial_a_blank_or_token_override_reason_does_not_open_the_gate(steward, snapshot):
    weak = registered_version(snapshot, test_seq_acc=0.5)
    for reason in ("", "   ", "ok"):
        with pytest.raises(ApplicationError):
            registry.model_version_promote(actor=steward, model_version=weak, override_reason=reason)
    # A renamed field does not slip past the gate either: unknown fields are refused.
    response = steward_api(steward).post(f"/api/v1/mlops/models/{weak.pk}/promote/", {"override": "because I say so"}, format="json")
    assert response.status_code == 400
    assert not ModelVersion.objects.get(pk=weak.pk).promoted


def test_adversarial_a_member_cannot_override(member, snapshot):
    weak = registered_version(snapshot, test_seq_acc=0.5)
    with pytest.raises(Exception) as refused:
        registry.model_version_promote(actor=member, model_version=weak, override_reason="I am sure it is fine, trust me")
    assert getattr(refused.value, "code", "") == "steward_required"


def test_rolling_back_twice_never_returns_to_the_version_just_rolled_back_from(steward, snapshot):
    v1, v2, v3 = (registered_version(snapshot, test_seq_acc=acc) for acc in (0.91, 0.93, 0.95))
    for version in (v1, v2, v3):
        registry.model_version_promote(actor=steward, model_version=version)
    assert registry.model_version_rollback(actor=steward, name="captcha").pk == v2.pk
    assert registry.model_version_rollback(actor=steward, name="captcha").pk == v1.pk  # not v3 again
    with pytest.raises(Conflict):
        registry.model_version_rollback(actor=steward, name="captcha")
    assert list(ModelVersion.objects.filter(promoted=True).values_list("pk", flat=True)) == [v1.pk]


def test_rollback_skips_a_retired_version(steward, snapshot):
    from mlops.services.rights import model_version_retire

    v1, v2, v3 = (registered_version(snapshot, test_seq_acc=acc) for acc in (0.91, 0.93, 0.95))
    for version in (v1, v2, v3):
        registry.model_version_promote(actor=steward, model_version=version)
    model_version_retire(version=v2, reason="rights revoked")
    assert registry.model_version_rollback(actor=steward, name="captcha").pk == v1.pk
    with pytest.raises(ApplicationError) as refused:
        registry.model_version_promote(actor=steward, model_version=ModelVersion.objects.get(pk=v2.pk),
                                       override_reason="A steward insists on the retired one")
    assert refused.value.code == "model_retired"


def test_the_models_page_shows_the_gate_before_the_steward_clicks(client, steward, snapshot):
    weak = registered_version(snapshot, test_seq_acc=0.2)
    client.force_login(steward)
    page = client.get("/mlops/models/").content.decode()
    assert f'data-testid="gate-{weak.pk}"' in page and "Promote anyway" in page and "20.0%" in page


def test_best_epoch_ties_break_on_character_accuracy_then_loss():
    pytest.importorskip("torch")
    from mlops.ocr.trainer import _score

    stuck = [{"val_seq_acc": 0.0, "val_char_acc": 0.10, "val_loss": 2.3}, {"val_seq_acc": 0.0, "val_char_acc": 0.40, "val_loss": 2.0},
             {"val_seq_acc": 0.0, "val_char_acc": 0.40, "val_loss": 1.5}, {"val_seq_acc": 0.0, "val_char_acc": 0.30, "val_loss": 1.0}]
    assert max(range(4), key=lambda i: _score(stuck[i])) == 2  # not epoch 1
    assert _score({"val_seq_acc": 0.1, "val_char_acc": 0.0, "val_loss": 9.0}) > _score(stuck[2])
