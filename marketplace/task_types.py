"""Per task type: what a task's data must look like, what an answer must look like, and how answers compare.

Each type validates client data at import and worker answers at submission,
and reduces an answer to a normalized `value` that consensus compares.
"""

from __future__ import annotations

import unicodedata
from collections import Counter

from coop.errors import ApplicationError
from coop.validation import check_text

from .models import Project, TaskType

MAX_TEXT = 20_000
MAX_OCR_ANSWER = 200
MAX_REASON = 2_000
MAX_HINT = 1_000
PAIRWISE_CHOICES = ("a", "b", "tie")


def _text(value, *, field: str, max_len: int, required: bool = True) -> str:
    if value is None and not required:
        return ""
    if not isinstance(value, str):
        raise ApplicationError(f"'{field}' must be text.", fields={field: ["Must be a string."]})
    if required and not value.strip():
        raise ApplicationError(f"'{field}' is required.", fields={field: ["Required."]})
    if len(value) > max_len:
        raise ApplicationError(f"'{field}' is longer than {max_len} characters.", fields={field: [f"At most {max_len} characters."]})
    return check_text(value, field=field)


def validate_task_data(project: Project, data) -> dict:
    """Check the non-image part of a task's data; returns the data to store (image handled by the importer)."""
    if not isinstance(data, dict):
        raise ApplicationError("'data' must be an object.", fields={"data": ["Must be a JSON object."]})
    kind = project.task_type
    if kind == TaskType.OCR:
        if "image" not in data:
            raise ApplicationError("OCR tasks need 'data.image' (base64 PNG or JPEG).", fields={"data.image": ["Required."]})
        if "hint" in data:
            _text(data["hint"], field="data.hint", max_len=MAX_HINT, required=False)
        unknown = set(data) - {"image", "hint"}
    elif kind == TaskType.CLASSIFICATION:
        if not data.get("text") and "image" not in data:
            raise ApplicationError("Classification tasks need 'data.text' and/or 'data.image'.", fields={"data": ["text or image required."]})
        if "text" in data:
            _text(data["text"], field="data.text", max_len=MAX_TEXT)
        unknown = set(data) - {"text", "image"}
    else:
        for key in ("prompt", "response_a", "response_b"):
            _text(data.get(key), field=f"data.{key}", max_len=MAX_TEXT)
        unknown = set(data) - {"prompt", "response_a", "response_b"}
    if unknown:
        raise ApplicationError(f"Unknown fields in data: {', '.join(sorted(unknown))}.", fields={"data": ["Unknown fields."]})
    return {k: v for k, v in data.items() if k != "image"}


def normalize_ocr(text: str, *, case_sensitive: bool) -> str:
    """Exact match after normalization: Unicode NFKC, trimmed, inner whitespace collapsed, case folded unless it matters."""
    text = " ".join(unicodedata.normalize("NFKC", text).split())
    return text if case_sensitive else text.casefold()


def validate_answer(project: Project, payload) -> tuple[dict, str]:
    """Validate a worker's answer; return (payload to store, normalized value)."""
    if not isinstance(payload, dict):
        raise ApplicationError("The answer must be a JSON object.", fields={"answer": ["Must be an object."]})
    kind = project.task_type
    if kind == TaskType.OCR:
        text = _text(payload.get("text"), field="text", max_len=MAX_OCR_ANSWER, required=False)
        if not text.strip():
            raise ApplicationError("Type the text you see (or skip the task).", fields={"text": ["Required."]})
        return {"text": text}, normalize_ocr(text, case_sensitive=project.case_sensitive)
    if kind == TaskType.CLASSIFICATION:
        choice = payload.get("choice")
        if choice not in project.choices:
            raise ApplicationError(
                f"'choice' must be one of: {', '.join(map(str, project.choices))}.", fields={"choice": ["Not one of the project's choices."]}
            )
        return {"choice": choice}, str(choice)
    preferred = payload.get("preferred")
    if preferred not in PAIRWISE_CHOICES:
        raise ApplicationError("'preferred' must be 'a', 'b' or 'tie'.", fields={"preferred": ["Must be a, b or tie."]})
    reason = _text(payload.get("reason") or "", field="reason", max_len=MAX_REASON, required=False)
    return {"preferred": preferred, "reason": reason}, preferred


def gold_value(project: Project, gold) -> str:
    """Normalize a gold answer given by the client at import (same shape as a worker answer)."""
    if isinstance(gold, str):
        gold = {TaskType.OCR: {"text": gold}, TaskType.CLASSIFICATION: {"choice": gold}}.get(project.task_type, {"preferred": gold})
    _, value = validate_answer(project, gold)
    return value


def label_from_value(project: Project, value: str, answers_payloads: list[dict]) -> dict:
    """The label delivered to the client: the agreed answer in the type's answer shape."""
    kind = project.task_type
    if kind == TaskType.OCR:
        # Deliver the most common original spelling among the agreeing answers.
        counts = Counter(p["text"].strip() for p in answers_payloads)
        return {"text": min(counts, key=lambda s: (-counts[s], s)) if counts else value}
    if kind == TaskType.CLASSIFICATION:
        return {"choice": value}
    reasons = [p.get("reason", "") for p in answers_payloads if p.get("reason")]
    return {"preferred": value, "reasons": reasons}


def task_content_hash(data: dict, image: bytes = b"") -> str:
    """What an item is, whatever the client calls it: SHA-256 over its data values (sorted, field names left out,
    so a renamed field does not hide a relaunched item) and its image bytes."""
    import hashlib
    import json

    def leaves(value):
        if isinstance(value, dict):
            for item in value.values():
                yield from leaves(item)
        elif isinstance(value, list):
            for item in value:
                yield from leaves(item)
        else:
            yield json.dumps(value, ensure_ascii=False)

    digest = hashlib.sha256("\x1f".join(sorted(leaves(data or {}))).encode())
    digest.update(b"\x00image\x00")
    digest.update(image or b"")
    return digest.hexdigest()
