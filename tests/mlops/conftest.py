"""Fixtures for the mlops app: OCR projects with real CAPTCHA images labelled through the real claim/submit services."""

from __future__ import annotations

import base64
import random
from decimal import Decimal

import pytest

from tests import factories

FAST_CONFIG = {
    # timm's test_resnet at 32x96 grayscale: a training step takes milliseconds on a CPU.
    "backbone": "test_resnet", "img_height": 32, "img_width": 96, "in_chans": 1, "batch_size": 8, "lr": 2e-3,
    "epochs": 2, "num_workers": 0, "device": "cpu", "log_every_steps": 2, "checkpoint_every_epochs": 1, "augment": False,
}


def captcha_b64(text: str) -> str:
    from captcha.image import ImageCaptcha

    return base64.b64encode(ImageCaptcha(width=160, height=60).generate(text).getvalue()).decode()


def digit_texts(n: int, *, length: int = 4, seed: int = 0) -> list[str]:
    rng = random.Random(seed)
    return ["".join(rng.choice("0123456789") for _ in range(length)) for _ in range(n)]


def make_ocr_project(organization, texts: list[str], *, dua_terms: dict | None = None, **fields):
    """A published OCR project of CAPTCHA images of `texts` (external ids cap-0, cap-1, ...), funded through the ledger."""
    from marketplace.services import importing, projects

    defaults = {"title": "Read the codes", "instructions": "Type the digits.", "pay_per_task": "0.10", "estimated_seconds": 12,
                "overlap": 1, "max_overlap": 1, "gold_ratio": "0"}
    project = projects.project_create(organization=organization, task_type="ocr", **(defaults | fields))
    rows = [{"external_id": f"cap-{i}", "data": {"image": captcha_b64(t)}} for i, t in enumerate(texts)]
    importing.tasks_import(project=project, rows=enumerate(rows, start=1))
    factories.make_active_dua(organization, **(dua_terms or {}))
    factories.fund_project(project)
    return projects.project_publish(project=project)


def label_project(project, workers, truth: dict[str, str], *, wrong: set[str] = frozenset(), max_tasks: int | None = None) -> int:
    """Each worker takes tasks until none is left and types the truth (or a wrong answer for external ids in `wrong`)."""
    from marketplace.services.claiming import work_next
    from marketplace.services.submission import assignment_submit

    submitted = 0
    for worker in workers:
        while max_tasks is None or submitted < max_tasks:
            claim = work_next(worker=worker, project=project)
            if claim.assignment is None:
                break
            external_id = claim.assignment.task.external_id
            text = truth[external_id] if external_id not in wrong else "x" + truth[external_id]
            assignment_submit(worker=worker, assignment_id=claim.assignment.pk, payload={"text": text},
                              idempotency_key=f"k-{claim.assignment.pk}")
            submitted += 1
    return submitted


def labelled_project(organization, n: int, *, workers=None, dua_terms=None, seed: int = 0, unlabelled: int = 0, **fields):
    """A project of n + `unlabelled` CAPTCHAs of which the first n are labelled correctly."""
    texts = digit_texts(n + unlabelled, seed=seed)
    project = make_ocr_project(organization, texts, dua_terms=dua_terms, **fields)
    workers = workers or [factories.make_member()]
    label_project(project, workers, {f"cap-{i}": t for i, t in enumerate(texts)}, max_tasks=n * project.overlap if unlabelled else None)
    return project


def steward_api(steward):
    from rest_framework.test import APIClient

    from coop import services

    client = APIClient()
    token = services.api_token_create(actor=steward, user=steward, name="steward token").plaintext
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


@pytest.fixture
def fast_retries():
    """Retry a failed training job after ~0.2 s instead of the production backoff."""
    from mlops.tasks import train_model

    saved = train_model.options["min_backoff"]
    train_model.options["min_backoff"] = 100
    yield
    train_model.options["min_backoff"] = saved


@pytest.fixture(autouse=True)
def _mlops_dir(settings, tmp_path):
    settings.MLOPS_DIR = tmp_path / "mlops"


def deposit(organization, amount: str):
    return factories.deposit(organization, Decimal(amount))


def registered_version(snapshot, *, name: str = "captcha", promoted: bool = False, test_seq_acc: float = 0.95, metrics: dict | None = None):
    """A registry entry for a snapshot without training (for tests of the registry, entitlement and billing rules).

    Its metrics pass the quality gate by default (held-out test accuracy 0.95 on the snapshot's test split).
    """
    from django.db.models import Max

    from mlops.models import ModelVersion, TrainingRun
    from mlops.services import registry

    run = TrainingRun.objects.create(model_name=name, snapshot=snapshot, config=FAST_CONFIG, status="succeeded")
    number = (ModelVersion.objects.filter(name=name).aggregate(n=Max("version"))["n"] or 0) + 1
    version = ModelVersion.objects.create(
        name=name, version=number, training_run=run, snapshot=snapshot, artifact_path="/nonexistent", backbone="test_resnet",
        charset=snapshot.charset, max_len=snapshot.max_len,
        metrics={"val_seq_acc": 0.5, "test_seq_acc": test_seq_acc, "test_n": max(1, snapshot.test_count),
                 "test_split_hash": f"split-of-{snapshot.pk}"} | (metrics or {}),
    )
    if promoted:
        registry.model_version_promote(actor=None, model_version=version)
        version.refresh_from_db()
    return version
