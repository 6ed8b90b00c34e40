"""A data-use agreement that ends (its contract's term passes, or the contract is terminated) retires the models trained under it.

The rule: a model version is servable only while every agreement its training labels came under still permits it.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from coop.models import Notification
from governance import services as governance
from governance.models import Contract, Elector, GovernanceLog
from mlops import tasks
from mlops.models import ModelPromotion, ModelVersion
from mlops.services import inference
from mlops.services.rights import rights_retire_ended, rights_sweep
from mlops.services.snapshots import snapshot_create
from tests import factories

from .conftest import captcha_b64, labelled_project, registered_version

pytestmark = pytest.mark.django_db


def _predict(organization, **fields):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {factories.org_token(organization)}")
    return client.post("/api/v1/ocr/predict/", {"images": [captcha_b64("1234")], **fields}, format="json")


def _notices(user):
    return Notification.objects.filter(user=user, kind="mlops.model_rights")


def _expire_all_terms():
    """Governance's hourly job, run the day after every test contract's term (a year from today) ended."""
    return governance.agreements_roll_terms(now=timezone.now() + dt.timedelta(days=400))


def test_retire_job_is_scheduled_every_ten_minutes():
    from coop.scheduler import periodic_jobs

    names = {job.actor.actor_name: job.seconds for job in periodic_jobs()}
    assert names["retire_models_of_ended_agreements"] == 600 and names["sweep_model_rights"] == 3600


def test_an_expired_agreement_retires_its_models_once_with_a_notice_naming_it_and_the_date(steward):
    org = factories.make_organization("Client A")
    client_user = factories.make_client_user(org)
    project = labelled_project(org, 3)
    old = registered_version(snapshot_create(actor=steward, name="a", projects=[project]))
    version = registered_version(snapshot_create(actor=steward, name="b", projects=[project]), promoted=True)
    assert _expire_all_terms()["expired"] == 1
    project.dua.refresh_from_db()
    assert project.dua.status == "expired"
    assert ModelVersion.objects.get(pk=version.pk).promoted  # governance sends no signal: nothing happened yet

    tasks.retire_models_of_ended_agreements()  # the periodic job, run in-process
    tasks.retire_models_of_ended_agreements()  # a second run (or a redelivery) changes nothing
    rights_sweep()  # nor does the hourly sweep

    version.refresh_from_db()
    assert version.retired_at is not None and not version.promoted
    ended_on = f"{timezone.localdate(project.dua.ended_at):%Y-%m-%d}"
    assert str(project.dua) in version.retired_reason and f"expired on {ended_on}" in version.retired_reason
    assert ModelVersion.objects.get(pk=old.pk).retired_at is not None  # every version trained under it, promoted or not
    assert ModelPromotion.objects.filter(model_version=version, action="retire").count() == 1
    assert GovernanceLog.objects.filter(action="model.retired").count() == 2
    for user in (steward, client_user):
        titles = list(_notices(user).values_list("title", flat=True))
        assert sorted(titles) == sorted([f"Model {old} retired", f"Model {version} retired"])
        assert all(str(project.dua) in body and ended_on in body for body in _notices(user).values_list("body", flat=True))

    response = _predict(org, version=version.pk)
    assert response.status_code == 410 and response.json()["error"]["code"] == "model_retired"
    assert ended_on in response.json()["error"]["message"]


def test_adversarial_a_client_whose_agreement_expired_keeps_calling_predict(steward):
    """No job has run since the agreement expired: the predict API itself refuses, every time, and notifies once."""
    org = factories.make_organization("Client A")
    client_user = factories.make_client_user(org)
    project = labelled_project(org, 3)
    version = registered_version(snapshot_create(actor=steward, name="a", projects=[project]), promoted=True)
    _expire_all_terms()

    for _ in range(3):
        for fields in ({}, {"model": "captcha"}, {"version": version.pk}):
            response = _predict(org, **fields)
            assert response.status_code in (404, 410), response.json()
            assert response.json()["error"]["code"] in ("model_retired", "no_promoted_model")
    assert _predict(org, model="captcha").json()["error"]["code"] == "model_retired"
    assert _predict(org, version=version.pk).json()["error"]["code"] == "model_retired"
    assert _notices(client_user).count() == 1 and _notices(steward).count() == 1
    tasks.retire_models_of_ended_agreements()
    assert _notices(client_user).count() == 1


def test_adversarial_predict_the_day_after_the_term_ended_before_governance_expired_it(steward):
    """The term's end, not the hourly status change, ends the right to serve."""
    org = factories.make_organization("Client A")
    project = labelled_project(org, 3)
    version = registered_version(snapshot_create(actor=steward, name="a", projects=[project]), promoted=True)
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    Contract.objects.filter(pk=project.dua.contract_id).update(term_end=yesterday)  # the clock moved past the term
    project.dua.refresh_from_db()
    assert project.dua.status == "active"

    response = _predict(org, version=version.pk)
    assert response.status_code == 410 and response.json()["error"]["code"] == "model_retired"
    version.refresh_from_db()
    assert f"ended on {yesterday:%Y-%m-%d} with its contract's term" in version.retired_reason


def test_adversarial_retire_job_also_catches_a_term_that_passed_before_governance_expired_it(steward):
    org = factories.make_organization("Client A")
    project = labelled_project(org, 2)
    version = registered_version(snapshot_create(actor=steward, name="a", projects=[project]), promoted=True)
    Contract.objects.filter(pk=project.dua.contract_id).update(term_end=timezone.localdate() - dt.timedelta(days=1))
    assert rights_retire_ended() == 1
    assert ModelVersion.objects.get(pk=version.pk).retired_at is not None
    assert rights_retire_ended() == 0  # retired versions are not checked again


def test_a_contract_terminated_by_a_members_vote_retires_the_models(steward):
    org = factories.make_organization("Client A")
    client_user = factories.make_client_user(org)
    project = labelled_project(org, 3)
    version = registered_version(snapshot_create(actor=steward, name="a", projects=[project]), promoted=True)
    contract = Contract.objects.get(pk=project.dua.contract_id)
    from governance.services.proposals import proposal_create_unchecked

    # What a member's termination initiative becomes once sponsored (governance.services.initiative).
    proposal = proposal_create_unchecked(creator=steward, kind="contract_termination", title="End the contract with Client A",
                                         contract=contract, payload={"reason": "Unpaid invoices"})
    for elector in Elector.objects.filter(proposal=proposal).select_related("membership__user"):
        governance.ballot_cast(proposal=proposal, user=elector.membership.user, choice="yes")
    governance.proposal_close(proposal=proposal, now=proposal.closes_at)
    project.dua.refresh_from_db()
    assert project.dua.status == "terminated"

    assert rights_retire_ended() == 1
    version.refresh_from_db()
    assert version.retired_at is not None and "was terminated on" in version.retired_reason
    assert "Unpaid invoices" in version.retired_reason and str(project.dua) in version.retired_reason
    assert _notices(client_user).count() == 1
    assert _predict(org, version=version.pk).json()["error"]["code"] == "model_retired"


def test_adversarial_a_model_trained_under_two_agreements_is_retired_when_only_one_ends(steward):
    """Servable only while every agreement its labels came under permits it: B loses the shared model, keeps its own."""
    org_a, org_b = factories.make_organization("Client A"), factories.make_organization("Client B")
    user_a, user_b = factories.make_client_user(org_a), factories.make_client_user(org_b)
    project_a = labelled_project(org_a, 2, dua_terms={"publish_trained_models": True})
    project_b = labelled_project(org_b, 2, dua_terms={"publish_trained_models": True})
    shared = registered_version(snapshot_create(actor=steward, name="both"), name="both", promoted=True)
    own_b = registered_version(snapshot_create(actor=steward, name="b", projects=[project_b]), name="b-only", promoted=True)
    assert inference.resolve_version(organization=org_b, version_id=shared.pk) == shared

    governance.contract_terminate(actor=steward, contract=Contract.objects.get(pk=project_a.dua.contract_id),
                                  reason="The client closed its account")
    assert rights_retire_ended() == 1  # only the shared version was trained on A's labels

    shared.refresh_from_db()
    assert shared.retired_at is not None and "Client A's data-use agreement" in shared.retired_reason
    response = _predict(org_b, version=shared.pk)
    assert response.status_code == 410 and response.json()["error"]["code"] == "model_retired"
    assert _predict(org_b, model="both").json()["error"]["code"] == "model_retired"
    assert _notices(user_a).count() == 1 and _notices(user_b).count() == 1  # both clients are told why
    own_b.refresh_from_db()
    assert own_b.promoted and own_b.retired_at is None
    assert inference.resolve_version(organization=org_b, name="b-only") == own_b  # still served


def test_adversarial_an_amended_then_expired_agreement_retires_models_trained_under_the_first_version(steward):
    """Labels came under v1; v2 superseded it and then expired. The superseded version's obligations pass to v2."""
    org = factories.make_organization("Client A")
    project = labelled_project(org, 2)
    version = registered_version(snapshot_create(actor=steward, name="a", projects=[project]), promoted=True)
    v2 = factories.ratify_by_vote(governance.dua_amend(actor=steward, dua=project.dua, retention_days=30))
    assert v2.status == "active" and ModelVersion.objects.get(pk=version.pk).promoted
    _expire_all_terms()
    assert rights_retire_ended() == 1
    version.refresh_from_db()
    assert version.retired_at is not None and f"DUA v{v2.version}" in version.retired_reason


def test_an_agreement_in_force_retires_nothing(steward):
    org = factories.make_organization("Client A")
    project = labelled_project(org, 2)
    version = registered_version(snapshot_create(actor=steward, name="a", projects=[project]), promoted=True)
    assert rights_retire_ended() == 0
    rights_sweep()
    version.refresh_from_db()
    assert version.promoted and version.retired_at is None
