"""Model-assisted labeling: the promoted OCR model's guess for a task (registered in marketplace.prefill).

A guess is shown only when the model's confidence in the whole string is at
least MLOPS_PREFILL_MIN_CONFIDENCE: a model unsure of its reading would only
anchor the worker on a wrong answer. What was served to an assignment is
recorded (PrefillServed), and the answer's `edited` flag is computed against
that record, never against what the client says it was shown.
"""

from __future__ import annotations

from django.conf import settings
from django.core.cache import cache

from marketplace.task_types import normalize_ocr

from .models import PrefillServed
from .services.inference import entitled_versions, run_model
from .services.rights import rights_enforce
from .services.training import _image_input


def ocr_prefill(*, task, project, assignment=None) -> str | None:
    """The text the newest promoted model the project's client is entitled to reads in the task's image (cached per model)."""
    if project.task_type != "ocr" or not task.image:
        return None
    version = (entitled_versions(project.organization).filter(promoted=True, retired_at__isnull=True)
               .order_by("-promoted_at", "-pk").first())
    if version is None:
        return None
    if rights_enforce(version).retired_at is not None:  # today's agreements first, as the predict API does
        return None
    key = f"mlops:prefill:v2:{version.pk}:{task.pk}"
    cached = cache.get(key)
    if cached is None:
        result = run_model(version, [_image_input(task.image.name)])[0]
        # Normalized like answers are, so the answer's `edited` flag compares like with like.
        cached = (normalize_ocr(result["text"], case_sensitive=project.case_sensitive), float(result["confidence"]))
        cache.set(key, cached, timeout=24 * 3600)
    text, confidence = cached
    if not text or confidence < settings.MLOPS_PREFILL_MIN_CONFIDENCE:
        return None
    if assignment is not None:
        PrefillServed.objects.update_or_create(
            assignment_id=assignment.pk, defaults={"model_version": version, "text": text[:1000], "confidence": confidence}
        )
    return text


def ocr_prefill_served(*, assignment) -> str | None:
    """What ocr_prefill served to this assignment ('' or None: nothing)."""
    return PrefillServed.objects.filter(assignment_id=assignment.pk).values_list("text", flat=True).first()
