"""Model cards and datasheets: generated from provenance, small cells suppressed, contributors pseudonymous unless they opt in."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from coop.errors import ApplicationError
from mlops import cards
from mlops.services import training
from mlops.services.credit import contributor_credit_set
from mlops.services.snapshots import snapshot_create
from tests import factories

from .conftest import FAST_CONFIG, digit_texts, label_project, make_ocr_project, registered_version, steward_api

pytestmark = pytest.mark.django_db


@pytest.fixture
def trained(steward):
    """A client's project labelled by six Kenyan members and one Peruvian member; a registered version on it."""
    org = factories.make_organization("Acme Vision Labs")
    texts = digit_texts(14)
    project = make_ocr_project(org, texts, dua_terms={"prohibited_uses": ["Surveillance of individuals"]})
    workers = [factories.make_member(display_name=f"Kenyan {i}") for i in range(6)] + [
        factories.make_member(display_name="Lima", country="PE", languages=["es"])]
    truth = {f"cap-{i}": t for i, t in enumerate(texts)}
    for worker in workers:
        label_project(project, [worker], truth, max_tasks=2)
    from marketplace.models import Answer

    Answer.objects.filter(task__project=project).update(active_seconds=30)  # the labeling page measured 30 s each
    snapshot = snapshot_create(actor=steward, name="captcha", projects=[project])
    version = registered_version(snapshot, metrics={"test_confusion_pairs": [["8", "3", 2]]})
    return org, project, workers, version


def test_a_model_card_says_what_the_model_was_trained_on_by_whom_and_at_what_pay(trained):
    org, project, workers, version = trained
    card = cards.model_card(version)
    assert card["kind"] == "model_card" and card["model"]["name"] == "captcha"
    assert card["intended_use"]["permitted_purposes"] == ["model_training", "evaluation"]
    assert "Surveillance of individuals" in card["intended_use"]["prohibited_uses"]
    assert card["training_data"]["sources"][0]["client"] == "Acme Vision Labs"
    assert card["training_data"]["counts"]["included"] == version.snapshot.item_count == 14
    assert card["rater_pool"]["raters"] == 7
    # The project datasheet's shape (marketplace.rater_pool): the one Peruvian is not shown.
    assert card["rater_pool"]["countries"] == {"counts": {"KE": 6}, "fewer_than_5": 1, "cells_suppressed": 1}
    assert "PE" not in str(card["rater_pool"]) and "es" not in card["rater_pool"]["languages"]["counts"]
    # 0.10 per task over 30 s measured = 12.00/hour, for each of the 14 answers behind the 14 labels.
    assert card["pay"] == {"currency": "USD", "answers_paid": 14, "answers_measured": 14, "median_hourly": "12.00",
                           "p10_hourly": "12.00", "share_topped_up": "0.000"}
    assert card["metrics"]["confusion_pairs"] == [["8", "3", 2]]
    labels = [c["contributor"] for c in card["contributors"]]
    assert all(label.startswith("w_") for label in labels) and "Lima" not in labels
    summary = card["public_summary"]
    assert summary["2_list_of_data_sources"]["2_2_private_datasets_from_third_parties"][0]["items"] == 14
    assert "3_data_processing" in summary


def test_members_who_opt_in_are_credited_by_name(trained):
    _, _, workers, version = trained
    contributor_credit_set(user=workers[-1], credit_by_name=True)
    labels = [c["contributor"] for c in cards.model_card(version)["contributors"]]
    assert "Lima" in labels and sum(label.startswith("w_") for label in labels) == 6


def test_html_json_and_markdown_of_a_card_and_a_datasheet(client, trained, steward):
    org, _, workers, version = trained
    client.force_login(workers[0])
    page = client.get(f"/mlops/models/{version.pk}/card/")
    assert page.status_code == 200 and "Acme Vision Labs" in page.content.decode() and "cells under 5 suppressed" in page.content.decode()
    markdown = client.get(f"/mlops/models/{version.pk}/card/?download=md")
    assert markdown["Content-Type"].startswith("text/markdown") and b"# Model card: captcha v1" in markdown.content
    assert b"| KE | 6 |" in markdown.content and b"1 more in 1 group of fewer than 5 (not shown)" in markdown.content
    assert "1 more in 1 group of fewer than 5" in page.content.decode() and "12.00 USD" in page.content.decode()
    sheet = client.get(f"/mlops/snapshots/{version.snapshot_id}/datasheet/?download=md")
    assert b"# Datasheet: snapshot" in sheet.content
    api = steward_api(steward)
    assert api.get(f"/api/v1/mlops/models/{version.pk}/card/").json()["rater_pool"]["raters"] == 7
    assert api.get(f"/api/v1/mlops/snapshots/{version.snapshot_id}/datasheet/").json()["kind"] == "datasheet"
    assert api.get(f"/api/v1/mlops/models/{version.pk}/card/?download=md").content.startswith(b"# Model card")
    owner = APIClient()
    owner.credentials(HTTP_AUTHORIZATION=f"Bearer {factories.org_token(org)}")
    assert owner.get(f"/api/v1/mlops/models/{version.pk}/card/").status_code == 200


def test_adversarial_another_client_cannot_read_a_card_of_data_it_has_no_part_in(trained):
    _, _, _, version = trained
    stranger = APIClient()
    stranger.credentials(HTTP_AUTHORIZATION=f"Bearer {factories.org_token(factories.make_organization('Rival'))}")
    assert stranger.get(f"/api/v1/mlops/models/{version.pk}/card/").status_code == 404
    assert stranger.get(f"/api/v1/mlops/snapshots/{version.snapshot_id}/datasheet/").status_code == 404
    assert APIClient().get(f"/api/v1/mlops/models/{version.pk}/card/").status_code == 401


def test_a_dua_that_requires_the_summary_blocks_training_until_it_can_be_generated(steward, monkeypatch):
    org = factories.make_organization("Regulated Co")
    texts = digit_texts(6)
    project = make_ocr_project(org, texts, dua_terms={"training_summary_required": True})
    label_project(project, [factories.make_member()], {f"cap-{i}": t for i, t in enumerate(texts)})
    monkeypatch.setattr(training, "enqueue_on_commit", lambda actor_name, *ids: None)
    run = training.training_run_start(actor=steward, model_name="regulated", projects=[project], config=FAST_CONFIG)
    assert run.status == "queued"  # provenance is complete: the summary can be generated, training goes ahead

    def unavailable(snapshot, **kwargs):
        raise cards.SummaryUnavailable("Some labels have no recorded annotators; the summary cannot be generated.")

    monkeypatch.setattr(cards, "public_summary", unavailable)
    with pytest.raises(ApplicationError) as refused:
        training.training_run_start(actor=steward, model_name="regulated", projects=[project], config=FAST_CONFIG)
    assert refused.value.code == "training_summary_unavailable"
