"""Revoking rights retires models: an amendment withdrawing train_models / publish_trained_models, or a deletion attestation."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from coop.models import Notification
from governance import services as governance
from governance.models import GovernanceLog
from governance.signals import dua_rights_changed
from mlops.models import ModelPromotion, ModelVersion, ServingRestriction
from mlops.services import inference
from mlops.services.snapshots import snapshot_create
from tests import factories

from .conftest import captcha_b64, labelled_project, registered_version

pytestmark = pytest.mark.django_db


def _api(organization):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {factories.org_token(organization)}")
    return client


def _amend(dua, **changes):
    amendment = governance.dua_amend(actor=factories.make_steward(), dua=dua, **changes)
    return factories.ratify_by_vote(amendment)


def _predict(organization, **fields):
    return _api(organization).post("/api/v1/ocr/predict/", {"images": [captcha_b64("1234")], **fields}, format="json")


def test_an_amendment_withdrawing_train_models_retires_the_promoted_model_with_notices(steward):
    org = factories.make_organization("Client A")
    client_user = factories.make_client_user(org)
    project = labelled_project(org, 3)
    version = registered_version(snapshot_create(actor=steward, name="a", projects=[project]), promoted=True)
    before = Notification.objects.filter(kind="mlops.model_rights").count()

    active = _amend(project.dua, train_models=False, publish_trained_models=False, permitted_purposes=["evaluation"])
    assert active.status == "active" and not active.train_models

    version.refresh_from_db()
    assert version.retired_at is not None and not version.promoted
    assert "no longer permits training" in version.retired_reason
    assert ModelPromotion.objects.filter(model_version=version, action="retire").exists()
    assert GovernanceLog.objects.filter(action="model.retired").exists()
    notices = Notification.objects.filter(kind="mlops.model_rights")
    assert notices.count() > before and notices.filter(user=steward).exists()
    assert notices.filter(user=client_user).exists()

    response = _predict(org, version=version.pk)
    assert response.status_code == 410 and response.json()["error"]["code"] == "model_retired"
    response = _predict(org, model="captcha")
    assert response.status_code == 410 and response.json()["error"]["code"] == "model_retired"
    assert _api(org).get("/api/v1/ocr/models/").json()["results"] == []


def test_a_deletion_attestation_retires_the_model(steward):
    org = factories.make_organization("Client A")
    project = labelled_project(org, 3)
    version = registered_version(snapshot_create(actor=steward, name="a", projects=[project]), promoted=True)
    governance.dua_attest_deletion(dua=project.dua, actor=None, organization=org,
                                   statement="All copies deleted from our bucket and backups on 2026-12-01.")
    version.refresh_from_db()
    assert version.retired_at is not None and "attested deletion" in version.retired_reason
    assert _predict(org).status_code == 404  # nothing promoted any more for this client
    assert _predict(org, version=version.pk).json()["error"]["code"] == "model_retired"


def test_withdrawing_publish_trained_models_keeps_the_model_for_its_owner_only(steward):
    org_a, org_b = factories.make_organization("Client A"), factories.make_organization("Client B")
    project_a = labelled_project(org_a, 2, dua_terms={"publish_trained_models": True})
    labelled_project(org_b, 2, dua_terms={"publish_trained_models": True})
    both = registered_version(snapshot_create(actor=steward, name="both"), name="both", promoted=True)
    assert inference.is_entitled(org_a, both) and inference.is_entitled(org_b, both)

    _amend(project_a.dua, publish_trained_models=False)

    both.refresh_from_db()
    assert both.retired_at is None and ServingRestriction.objects.filter(model_version=both, organization=org_a).exists()
    assert not inference.is_entitled(org_b, both) and inference.is_entitled(org_a, both)
    response = _predict(org_b, version=both.pk)
    assert response.status_code == 403 and response.json()["error"]["code"] == "rights_revoked"


def test_adversarial_the_predict_api_refuses_a_revoked_model_even_if_no_signal_ran(steward):
    """The guarantee is a direct call before serving, not the signal: disconnect the receiver and revoke."""
    org = factories.make_organization("Client A")
    project = labelled_project(org, 3)
    version = registered_version(snapshot_create(actor=steward, name="a", projects=[project]), promoted=True)
    from mlops.rights import retire_models_on_rights_change

    assert dua_rights_changed.disconnect(retire_models_on_rights_change, dispatch_uid="mlops.rights_apply_for_dua")
    try:
        _amend(project.dua, train_models=False, publish_trained_models=False, permitted_purposes=["evaluation"])
        assert ModelVersion.objects.get(pk=version.pk).promoted  # nobody told mlops
        response = _predict(org)
        assert response.status_code == 410 and response.json()["error"]["code"] == "model_retired"
        assert ModelVersion.objects.get(pk=version.pk).retired_at is not None
    finally:
        dua_rights_changed.connect(retire_models_on_rights_change, dispatch_uid="mlops.rights_apply_for_dua")


def test_the_hourly_sweep_retires_what_a_missed_signal_left(steward):
    from mlops.rights import retire_models_on_rights_change
    from mlops.services.rights import rights_sweep

    org = factories.make_organization("Client A")
    project = labelled_project(org, 3)
    version = registered_version(snapshot_create(actor=steward, name="a", projects=[project]), promoted=True)
    dua_rights_changed.disconnect(retire_models_on_rights_change, dispatch_uid="mlops.rights_apply_for_dua")
    try:
        _amend(project.dua, train_models=False, publish_trained_models=False, permitted_purposes=["evaluation"])
    finally:
        dua_rights_changed.connect(retire_models_on_rights_change, dispatch_uid="mlops.rights_apply_for_dua")
    rights_sweep()
    assert ModelVersion.objects.get(pk=version.pk).retired_at is not None
    rights_sweep()  # idempotent
    assert ModelPromotion.objects.filter(model_version=version, action="retire").count() == 1


def test_an_amendment_that_keeps_the_rights_changes_nothing(steward):
    org = factories.make_organization("Client A")
    project = labelled_project(org, 3)
    version = registered_version(snapshot_create(actor=steward, name="a", projects=[project]), promoted=True)
    _amend(project.dua, retention_days=30)
    version.refresh_from_db()
    assert version.promoted and version.retired_at is None
