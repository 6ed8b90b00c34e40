"""The model registry: register a trained model, promote a version, roll back to the previous one.

One version per model name is promoted at a time; a partial unique index
(`one_promoted_version_per_model`) makes the database refuse a second one, so
concurrent promotions cannot both win. Every promotion and rollback is recorded
in ModelPromotion (append-only).
"""

from __future__ import annotations

import shutil
from pathlib import Path

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from coop.errors import Conflict
from coop.models import User
from coop.services.membership import require_steward
from mlops.ocr.config import META_FILENAME, WEIGHTS_FILENAME

from ..models import ModelPromotion, ModelVersion, TrainingRun


def models_dir() -> Path:
    return Path(settings.MLOPS_DIR) / "models"


def model_version_register(*, run: TrainingRun, model_dir: str, metrics: dict, backbone: str) -> ModelVersion:
    """Copy the trained weights and sidecar out of the run's checkpoint directory and add the next version. Idempotent per run."""
    import json

    existing = ModelVersion.objects.filter(training_run=run).first()
    if existing is not None:
        return existing
    meta = json.loads((Path(model_dir) / META_FILENAME).read_text())
    for _ in range(5):  # two runs of one model finishing together: the unique (name, version) index decides
        number = (ModelVersion.objects.filter(name=run.model_name).aggregate(n=Max("version"))["n"] or 0) + 1
        target = models_dir() / run.model_name / f"v{number}-run{run.pk}"
        target.mkdir(parents=True, exist_ok=True)
        for name in (WEIGHTS_FILENAME, META_FILENAME):
            shutil.copy2(Path(model_dir) / name, target / name)
        try:
            with transaction.atomic():
                return ModelVersion.objects.create(
                    name=run.model_name, version=number, training_run=run, snapshot_id=run.snapshot_id, artifact_path=str(target),
                    metrics=metrics, backbone=backbone, charset=meta["charset"], max_len=meta["max_len"],
                )
        except IntegrityError:
            shutil.rmtree(target, ignore_errors=True)
            existing = ModelVersion.objects.filter(training_run=run).first()
            if existing is not None:
                return existing
    raise Conflict("Could not allocate a version number; try again.", code="version_race")


def _current(name: str) -> ModelVersion | None:
    return ModelVersion.objects.select_for_update().filter(name=name, promoted=True).first()


def _promote(*, model_version: ModelVersion, actor: User | None, action: str) -> ModelVersion:
    # Lock every version of the name in a fixed order so concurrent promotions queue instead of deadlocking.
    list(ModelVersion.objects.select_for_update().filter(name=model_version.name).order_by("pk").values_list("pk", flat=True))
    current = _current(model_version.name)
    if current is not None and current.pk == model_version.pk:
        return current
    if current is not None:
        ModelVersion.objects.filter(pk=current.pk).update(promoted=False)
    ModelVersion.objects.filter(pk=model_version.pk).update(promoted=True, promoted_at=timezone.now())
    ModelPromotion.objects.create(name=model_version.name, model_version=model_version, previous=current, action=action, actor=actor)
    model_version.refresh_from_db()
    return model_version


@transaction.atomic
def model_version_promote(*, actor: User | None, model_version: ModelVersion) -> ModelVersion:
    """Make `model_version` the one clients and model-assisted labeling use for its name. Stewards only (None: auto-promote)."""
    require_steward(actor, "Only stewards promote models.")
    return _promote(model_version=model_version, actor=actor, action=ModelPromotion.Action.PROMOTE)


@transaction.atomic
def model_version_rollback(*, actor: User | None, name: str) -> ModelVersion:
    """Promote again the version that was promoted before the current one. Stewards only.

    Refuses with Conflict "nothing_to_roll_back" when the current version was the first ever promoted.
    """
    require_steward(actor, "Only stewards roll back models.")
    list(ModelVersion.objects.select_for_update().filter(name=name).order_by("pk").values_list("pk", flat=True))
    current = _current(name)
    last = ModelPromotion.objects.filter(name=name).order_by("-created_at", "-id").first()
    if current is None or last is None or last.model_version_id != current.pk or last.previous_id is None:
        raise Conflict(f"There is no earlier promoted version of {name!r} to roll back to.", code="nothing_to_roll_back")
    return _promote(model_version=last.previous, actor=actor, action=ModelPromotion.Action.ROLLBACK)
