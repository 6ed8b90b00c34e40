"""Automatic training once a client's OCR projects gather enough new accepted labels."""

from __future__ import annotations

import pytest

from mlops.models import TrainingRun
from mlops.services.autotrain import auto_train_due, new_label_count
from tests import factories

from .conftest import labelled_project

pytestmark = pytest.mark.django_db


def test_a_run_starts_after_n_new_labels_and_not_again_while_it_is_pending(settings):
    settings.MLOPS_AUTO_TRAIN_NEW_LABELS = 4
    settings.MLOPS_AUTO_TRAIN_CONFIG = {"backbone": "test_resnet", "epochs": 2}
    organization = factories.make_organization("Auto Client")
    small = labelled_project(organization, 3)
    assert auto_train_due() == []  # 3 < 4
    labelled_project(organization, 2, seed=1)
    [run] = auto_train_due()
    assert run.model_name == "auto-client-ocr" and run.created_by is None and not run.auto_promote
    assert run.snapshot.item_count == 5 and run.config["epochs"] == 2
    assert new_label_count(small) == 0
    assert auto_train_due() == []  # a run of this model is queued
    TrainingRun.objects.filter(pk=run.pk).update(status="succeeded")
    assert auto_train_due() == []  # no new labels since the snapshot


def test_off_by_default(settings):
    labelled_project(factories.make_organization(), 3)
    assert settings.MLOPS_AUTO_TRAIN_NEW_LABELS == 0
    assert auto_train_due() == [] and not TrainingRun.objects.exists()
