"""Inference entitlement and funds: who may use which model, and refusing predictions a client cannot pay for.

These tests never run a model: entitlement and the funds check come before it.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from coop.errors import Forbidden, NotFound
from mlops.models import PredictionUsage
from mlops.services import inference
from mlops.services.snapshots import snapshot_create
from tests import factories

from .conftest import captcha_b64, deposit, labelled_project, registered_version

pytestmark = pytest.mark.django_db


def _api(organization):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {factories.org_token(organization)}")
    return client


def test_client_b_cannot_use_a_model_trained_only_on_client_a_data(steward):
    org_a, org_b = factories.make_organization("Client A"), factories.make_organization("Client B")
    project_a = labelled_project(org_a, 3)
    labelled_project(org_b, 3)
    version = registered_version(snapshot_create(actor=steward, name="a", projects=[project_a]), promoted=True)

    assert inference.resolve_version(organization=org_a).pk == version.pk
    with pytest.raises(NotFound):  # B has no model of its own
        inference.resolve_version(organization=org_b)
    with pytest.raises(Forbidden):
        inference.resolve_version(organization=org_b, name="captcha")
    with pytest.raises(Forbidden):
        inference.resolve_version(organization=org_b, version_id=version.pk)

    body = {"images": [captcha_b64("1234")], "version": version.pk}
    response = _api(org_b).post("/api/v1/ocr/predict/", body, format="json")
    assert response.status_code == 403 and response.json()["error"]["code"] == "not_entitled"
    assert _api(org_b).post("/api/v1/ocr/predict/", {"images": [captcha_b64("1")]}, format="json").status_code == 404
    assert _api(org_b).get("/api/v1/ocr/models/").json()["results"] == []
    assert [m["id"] for m in _api(org_a).get("/api/v1/ocr/models/").json()["results"]] == [version.pk]
    assert not PredictionUsage.objects.exists()


def test_a_shared_model_reaches_a_client_only_if_every_other_contributor_agreed(steward):
    org_a, org_b = factories.make_organization("Client A"), factories.make_organization("Client B")
    shares = {"publish_trained_models": True}
    labelled_project(org_a, 2, dua_terms=shares)
    project_b = labelled_project(org_b, 2)
    both = registered_version(snapshot_create(actor=steward, name="both"), name="both")
    # A agreed that models trained on its data may serve others; B did not.
    assert inference.is_entitled(org_b, both) and not inference.is_entitled(org_a, both)
    only_b = registered_version(snapshot_create(actor=steward, name="b", projects=[project_b]), name="only-b")
    assert inference.is_entitled(org_b, only_b) and not inference.is_entitled(org_a, only_b)


def test_predictions_a_client_cannot_pay_for_are_refused_with_402(steward, settings):
    settings.OCR_PREDICTION_PRICE = Decimal("0.0100")
    organization = factories.make_organization()
    project = labelled_project(organization, 2, dua_terms={"revenue_share_pct": "10.00"})
    version = registered_version(snapshot_create(actor=steward, name="paid", projects=[project]), promoted=True)
    assert inference.billing_terms(organization, version) == (Decimal("0.0100"), Decimal("10.00"))

    body = {"images": [captcha_b64("1234"), captcha_b64("5678")]}
    response = _api(organization).post("/api/v1/ocr/predict/", body, format="json")
    assert response.status_code == 402
    error = response.json()["error"]
    assert error["code"] == "insufficient_funds" and error["required"] == "0.0200"
    # Usage not yet billed counts against the balance too.
    deposit(organization, "0.03")
    PredictionUsage.objects.create(organization=organization, model_version=version, day="2020-01-01", predictions=2,
                                   unit_price=Decimal("0.0100"), revenue_share_pct=Decimal("10"))
    assert inference.amount_owed(organization) == Decimal("0.02")
    assert _api(organization).post("/api/v1/ocr/predict/", body, format="json").status_code == 402


def test_no_share_means_no_price(steward):
    organization = factories.make_organization()
    project = labelled_project(organization, 1)
    version = registered_version(snapshot_create(actor=steward, name="free", projects=[project]))
    assert inference.billing_terms(organization, version) == (Decimal(0), Decimal(0))


def test_bad_images_and_requests_are_400s(steward, org_api, organization):
    response = org_api.post("/api/v1/ocr/predict/", {"images": ["not base64!"]}, format="json")
    assert response.status_code == 400 and response.json()["error"]["code"] == "invalid_image"
    import base64

    junk = base64.b64encode(b"this is not an image").decode()
    assert org_api.post("/api/v1/ocr/predict/", {"images": [junk]}, format="json").json()["error"]["code"] == "invalid_image"
    assert org_api.post("/api/v1/ocr/predict/", {"images": []}, format="json").status_code == 400


def test_members_cannot_call_the_client_inference_api(member_api):
    assert member_api.post("/api/v1/ocr/predict/", {"images": [captcha_b64("1")]}, format="json").status_code == 403
