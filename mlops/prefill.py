"""Model-assisted labeling: the promoted OCR model's guess for a task (registered in marketplace.prefill.PREFILL_HOOKS)."""

from __future__ import annotations

from django.core.cache import cache

from marketplace.task_types import normalize_ocr

from .services.inference import entitled_versions, run_model
from .services.training import _image_input


def ocr_prefill(*, task, project) -> str | None:
    """The text the newest promoted model the project's client is entitled to reads in the task's image (cached per model)."""
    if project.task_type != "ocr" or not task.image:
        return None
    version = entitled_versions(project.organization).filter(promoted=True).order_by("-promoted_at", "-pk").first()
    if version is None:
        return None
    key = f"mlops:prefill:{version.pk}:{task.pk}"
    text = cache.get(key)
    if text is None:
        text = run_model(version, [_image_input(task.image.name)])[0]["text"]
        # Normalized like answers are, so the answer's `edited` flag compares like with like.
        text = normalize_ocr(text, case_sensitive=project.case_sensitive)
        cache.set(key, text, timeout=24 * 3600)
    return text
