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

from coop.error_codes import CoopErrorCode
from coop.errors import ApplicationError, Conflict
from coop.models import User
from coop.validation import require_steward
from mlops.error_codes import MlopsErrorCode
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
    raise Conflict("Could not allocate a version number; try again.", code=MlopsErrorCode.VERSION_RACE)


def _current(name: str) -> ModelVersion | None:
    return ModelVersion.objects.select_for_update().filter(name=name, promoted=True).first()


def _lock_name(name: str) -> None:
    # Lock every version of the name in a fixed order so concurrent promotions queue instead of deadlocking.
    list(ModelVersion.objects.select_for_update().filter(name=name).order_by("pk").values_list("pk", flat=True))


def promotion_gate(model_version: ModelVersion, current: ModelVersion | None = None) -> dict:
    """Whether `model_version` may be promoted without a steward's override, and why (no writes).

    Passes when its held-out test sequence accuracy is at least
    MLOPS_PROMOTE_MIN_ACCURACY and not below the promoted version's on the
    same test split: the training job scores the then-promoted version on the
    new version's test split (metrics["baseline"]); when the promoted version
    has changed since, its own score counts only if it was measured on an
    identical split (same test_split_hash). Returns {"passed", "code",
    "reason", "test_seq_acc", "minimum", "baseline"}.
    """
    if current is None:
        current = ModelVersion.objects.filter(name=model_version.name, promoted=True).exclude(pk=model_version.pk).first()
    metrics = model_version.metrics or {}
    minimum = float(settings.MLOPS_PROMOTE_MIN_ACCURACY)
    accuracy = metrics.get("test_seq_acc")
    verdict = {"passed": False, "code": "", "reason": "", "test_seq_acc": accuracy, "minimum": minimum, "baseline": None}
    if model_version.is_retired:
        return verdict | {"code": MlopsErrorCode.MODEL_RETIRED, "reason": f"{model_version} is retired: {model_version.retired_reason}"}
    if accuracy is None or not metrics.get("test_n"):
        return verdict | {"code": MlopsErrorCode.NO_TEST_ACCURACY, "reason": f"{model_version} has no held-out test accuracy (its snapshot has no test split)."}
    if accuracy < minimum:
        return verdict | {"code": MlopsErrorCode.BELOW_MIN_ACCURACY,
                          "reason": f"{model_version} reads {accuracy:.1%} of held-out test images right; promotion needs {minimum:.1%}."}
    if current is not None:
        baseline = metrics.get("baseline") or {}
        if baseline.get("model_version") == current.pk and baseline.get("test_seq_acc") is not None:
            theirs = float(baseline["test_seq_acc"])
        elif metrics.get("test_split_hash") and (current.metrics or {}).get("test_split_hash") == metrics["test_split_hash"] \
                and current.metrics.get("test_seq_acc") is not None:
            theirs = float(current.metrics["test_seq_acc"])
        else:
            return verdict | {"code": MlopsErrorCode.NO_COMPARABLE_BASELINE,
                              "reason": f"{current} (promoted) was not scored on {model_version}'s test split; retrain to compare, "
                                        "or a steward overrides with a reason."}
        verdict["baseline"] = {"model_version": current.pk, "test_seq_acc": theirs}
        if accuracy < theirs:
            return verdict | {"code": MlopsErrorCode.REGRESSION,
                              "reason": f"{model_version} ({accuracy:.1%}) is below the promoted {current} ({theirs:.1%}) on the same test split."}
    return verdict | {"passed": True, "reason": "passed"}


def _promote(*, model_version: ModelVersion, actor: User | None, action: str, gate: dict | None = None,
             override_reason: str = "") -> ModelVersion:
    """Call holding the name's lock (_lock_name)."""
    current = _current(model_version.name)
    if current is not None and current.pk == model_version.pk:
        return current
    if current is not None:
        ModelVersion.objects.filter(pk=current.pk).update(promoted=False)
    ModelVersion.objects.filter(pk=model_version.pk).update(promoted=True, promoted_at=timezone.now())
    ModelPromotion.objects.create(name=model_version.name, model_version=model_version, previous=current, action=action, actor=actor,
                                  gate=gate or {}, override_reason=override_reason)
    model_version.refresh_from_db()
    return model_version


@transaction.atomic
def model_version_promote(*, actor: User | None, model_version: ModelVersion, override_reason: str = "") -> ModelVersion:
    """Make `model_version` the one clients and model-assisted labeling use for its name. Stewards only (None: auto-promote).

    The quality gate (promotion_gate) must pass, unless a steward (never the
    auto-promote) gives `override_reason` (at least 10 characters), which is
    kept with the promotion and written to the governance log. A retired
    version is never promoted. Refuses with ApplicationError 422 and the gate's
    code (below_min_accuracy, regression, no_test_accuracy, no_comparable_baseline, model_retired).
    """
    require_steward(actor, "Only stewards promote models.", system=True)
    override_reason = (override_reason or "").strip()
    _lock_name(model_version.name)
    model_version = ModelVersion.objects.get(pk=model_version.pk)
    current = _current(model_version.name)
    if current is not None and current.pk == model_version.pk:
        return current
    gate = promotion_gate(model_version, current)
    if not gate["passed"]:
        if gate["code"] == MlopsErrorCode.MODEL_RETIRED or not override_reason or actor is None:
            extra = "" if gate["code"] == MlopsErrorCode.MODEL_RETIRED or actor is None else " A steward may override with a reason."
            raise ApplicationError(gate["reason"] + extra, code=gate["code"], status=422, extra={"gate": gate})
        if len(override_reason) < 10:
            raise ApplicationError("Say why the gate is overridden (at least 10 characters).", code=CoopErrorCode.REASON_REQUIRED,
                                   fields={"override_reason": ["Too short."]})
        from governance.services.audit import log_write

        log_write(actor=actor, action="model.promotion_override", obj=model_version,
                  summary=f"{model_version} promoted past its quality gate ({gate['code']})"[:300],
                  data={"gate": gate, "reason": override_reason[:500]})
    else:
        override_reason = ""
    return _promote(model_version=model_version, actor=actor, action=ModelPromotion.Action.PROMOTE, gate=gate,
                    override_reason=override_reason)


def promotion_stack(name: str) -> list[int]:
    """Replay the name's promotion history into a stack of version ids (top = promoted).

    A promotion pushes (moving the version to the top), a rollback pops the
    version rolled back from, a retirement removes the version. So rolling
    back twice from v3 (after v1, v2, v3) lands on v1, never on v3 again.
    """
    stack: list[int] = []
    history = ModelPromotion.objects.filter(name=name).order_by("created_at", "id").values_list("action", "model_version_id", "previous_id")
    for action, version_id, previous_id in history:
        if action == ModelPromotion.Action.PROMOTE:
            stack = [v for v in stack if v != version_id] + [version_id]
        elif action == ModelPromotion.Action.ROLLBACK:
            stack = [v for v in stack if v != previous_id]
            stack = [v for v in stack if v != version_id] + [version_id]
        elif action == ModelPromotion.Action.RETIRE:
            stack = [v for v in stack if v != version_id]
    return stack


@transaction.atomic
def model_version_rollback(*, actor: User | None, name: str) -> ModelVersion:
    """Promote again the version promoted before the current one. Stewards only.

    The target is the one below the current in promotion_stack, skipping retired
    versions; the version rolled back from leaves the stack, so a second
    rollback goes further back instead of returning to it. Refuses with
    Conflict "nothing_to_roll_back" when there is no such version. With no
    version promoted (the promoted one was retired), the most recent earlier
    one that is not retired is promoted again.
    """
    require_steward(actor, "Only stewards roll back models.", system=True)
    _lock_name(name)
    current = _current(name)
    stack = promotion_stack(name)
    if current is not None and (not stack or stack[-1] != current.pk):
        raise Conflict(f"There is no earlier promoted version of {name!r} to roll back to.", code=MlopsErrorCode.NOTHING_TO_ROLL_BACK)
    retired = set(ModelVersion.objects.filter(pk__in=stack, retired_at__isnull=False).values_list("pk", flat=True))
    # With nothing promoted (its version was retired) the top of the stack is the one to go back to.
    candidates = [pk for pk in (stack[:-1] if current is not None else stack) if pk not in retired]
    if not candidates:
        raise Conflict(f"There is no earlier promoted version of {name!r} to roll back to.", code=MlopsErrorCode.NOTHING_TO_ROLL_BACK)
    target = ModelVersion.objects.get(pk=candidates[-1])
    return _promote(model_version=target, actor=actor, action=ModelPromotion.Action.ROLLBACK)
