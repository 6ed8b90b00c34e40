"""The model registry: one promoted version per name (enforced by the database), promotion and rollback by stewards only."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction

from coop.errors import Conflict, Forbidden
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


def test_promote_then_roll_back_to_the_previous_version(steward, snapshot):
    v1, v2 = registered_version(snapshot), registered_version(snapshot)
    registry.model_version_promote(actor=steward, model_version=v1)
    registry.model_version_promote(actor=steward, model_version=v2)
    assert list(ModelVersion.objects.filter(promoted=True).values_list("pk", flat=True)) == [v2.pk]
    back = registry.model_version_rollback(actor=steward, name="captcha")
    assert back.pk == v1.pk and back.promoted
    assert not ModelVersion.objects.get(pk=v2.pk).promoted
    history = list(ModelPromotion.objects.order_by("id").values_list("action", "model_version_id", "previous_id"))
    assert history == [("promote", v1.pk, None), ("promote", v2.pk, v1.pk), ("rollback", v1.pk, v2.pk)]


def test_nothing_to_roll_back_to_is_a_conflict(steward, snapshot):
    registry.model_version_promote(actor=steward, model_version=registered_version(snapshot))
    with pytest.raises(Conflict):
        registry.model_version_rollback(actor=steward, name="captcha")


def test_the_database_refuses_two_promoted_versions_of_one_model(snapshot):
    v1, v2 = registered_version(snapshot, promoted=True), registered_version(snapshot)
    with pytest.raises(IntegrityError), transaction.atomic():
        ModelVersion.objects.filter(pk=v2.pk).update(promoted=True)
    other = registered_version(snapshot, name="other")
    ModelVersion.objects.filter(pk=other.pk).update(promoted=True)  # another name may have its own
    assert ModelVersion.objects.filter(promoted=True).count() == 2 and v1.promoted


def test_members_and_clients_cannot_promote_or_roll_back(member, member_api, org_api, steward, snapshot):
    version = registered_version(snapshot)
    with pytest.raises(Forbidden):
        registry.model_version_promote(actor=member, model_version=version)
    for client in (member_api, org_api):
        assert client.post(f"/api/v1/mlops/models/{version.pk}/promote/").status_code == 403
        assert client.post("/api/v1/mlops/models/rollback/", {"name": "captcha"}, format="json").status_code == 403
    response = steward_api(steward).post(f"/api/v1/mlops/models/{version.pk}/promote/")
    assert response.status_code == 200 and response.json()["promoted"] is True
    listed = steward_api(steward).get("/api/v1/mlops/models/").json()["results"]
    assert listed[0]["contributors"] == 1
