"""Per task type: what a task's data must look like, what an answer must look like, and how answers compare.

Each type validates client data at import and worker answers at submission,
and reduces an answer to a normalized `value` that consensus compares.
"""

from __future__ import annotations

import unicodedata
from collections import Counter
from decimal import ROUND_DOWN, Decimal

from coop.errors import ApplicationError
from coop.validation import check_text
from marketplace.error_codes import MarketplaceErrorCode

from .models import Project, TaskType


class InvalidShape(ApplicationError):
    """Task data or an answer not in its type's shape: a 400 naming the field (nothing is written)."""

    status = 400
    code = MarketplaceErrorCode.INVALID_ANSWER

MAX_TEXT = 20_000
MAX_OCR_ANSWER = 200
MAX_REASON = 2_000
MAX_HINT = 1_000
PAIRWISE_CHOICES = ("a", "b", "tie")
MIN_RESPONSES, MAX_RESPONSES = 2, 9
MAX_TURNS = 50
ROLES = ("system", "user", "assistant")
MAX_DIMENSIONS, MAX_SCALE = 10, 11
RATIONALE = ("none", "optional", "required")
CHOICE_TYPES = (TaskType.CLASSIFICATION, TaskType.MULTILABEL)


def _prompt(value, field: str = "data.prompt"):
    """A prompt is a text or a conversation: a list of {"role": system|user|assistant, "content": text} turns."""
    if isinstance(value, list):
        if not 1 <= len(value) <= MAX_TURNS:
            raise InvalidShape(f"'{field}' must have 1 to {MAX_TURNS} turns.", fields={field: ["1 to 50 turns."]})
        for i, turn in enumerate(value):
            if not isinstance(turn, dict) or set(turn) != {"role", "content"} or turn.get("role") not in ROLES:
                raise InvalidShape(
                    f"Each turn of '{field}' is {{\"role\": system|user|assistant, \"content\": text}}.",
                    fields={f"{field}[{i}]": ["A role and content."]},
                )
            _text(turn["content"], field=f"{field}[{i}].content", max_len=MAX_TEXT)
        return value
    return _text(value, field=field, max_len=MAX_TEXT)


def prompt_text(prompt) -> str:
    """A prompt as one text (a conversation's turns as "role: content" lines), for exports and hashing."""
    if isinstance(prompt, list):
        return "\n\n".join(f"{turn['role']}: {turn['content']}" for turn in prompt)
    return prompt


def validate_config(task_type: str, config, choices) -> dict:
    """Check a project's task_config for its type; returns the config to store. Raises ApplicationError naming the field."""
    config = {} if config in (None, "") else config
    if not isinstance(config, dict):
        raise InvalidShape("'task_config' must be an object.", fields={"task_config": ["Must be an object."]})
    if task_type == TaskType.RANKING:
        unknown = set(config) - {"allow_ties"}
        if "allow_ties" in config and not isinstance(config["allow_ties"], bool):
            raise InvalidShape("'allow_ties' is true or false.", fields={"task_config.allow_ties": ["true or false"]})
        clean = {"allow_ties": bool(config.get("allow_ties", False))}
    elif task_type == TaskType.RUBRIC:
        unknown = set(config) - {"dimensions", "tolerance"}
        clean = {"dimensions": _dimensions(config.get("dimensions")), "tolerance": config.get("tolerance", 0)}
        if not isinstance(clean["tolerance"], int) or isinstance(clean["tolerance"], bool) or not 0 <= clean["tolerance"] < MAX_SCALE:
            raise InvalidShape("'tolerance' is a whole number of scale steps (0: exact).", fields={"task_config.tolerance": ["0 to 10."]})
    elif task_type == TaskType.MULTILABEL:
        unknown = set(config) - {"min_choices", "max_choices"}
        count = len(choices or [])
        low, high = config.get("min_choices", 0), config.get("max_choices", count)
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in (low, high)) or not 0 <= low <= high <= max(count, 1):
            raise InvalidShape(
                f"0 ≤ min_choices ≤ max_choices ≤ the number of choices ({count}).", fields={"task_config": ["Invalid bounds."]}
            )
        clean = {"min_choices": low, "max_choices": high}
    else:
        unknown, clean = set(config), {}
    if unknown:
        raise InvalidShape(f"Unknown task_config fields: {', '.join(sorted(unknown))}.", fields={"task_config": ["Unknown fields."]})
    return clean


def _dimensions(value) -> list[dict]:
    if not isinstance(value, list) or not 1 <= len(value) <= MAX_DIMENSIONS:
        raise InvalidShape(
            f"A rubric needs 'dimensions': 1 to {MAX_DIMENSIONS} of {{key, label, scale, rationale}}.",
            fields={"task_config.dimensions": ["1 to 10 dimensions."]},
        )
    clean, keys = [], set()
    for i, dim in enumerate(value):
        field = f"task_config.dimensions[{i}]"
        if not isinstance(dim, dict) or set(dim) - {"key", "label", "scale", "rationale"}:
            raise InvalidShape("Each dimension is {key, label, scale, rationale}.", fields={field: ["Unknown or missing fields."]})
        key = dim.get("key")
        if not isinstance(key, str) or not key.isidentifier() or len(key) > 40 or key in keys:
            raise InvalidShape("Each dimension needs a distinct 'key' (letters, digits, _).", fields={f"{field}.key": ["Invalid or repeated."]})
        keys.add(key)
        scale = dim.get("scale")
        if not isinstance(scale, list) or not 2 <= len(scale) <= MAX_SCALE or not all(isinstance(x, str) and x.strip() and len(x) <= 60 for x in scale):
            raise InvalidShape(
                "A dimension's 'scale' lists 2 to 11 point labels, lowest first (a Likert scale).", fields={f"{field}.scale": ["2 to 11 labels."]}
            )
        rationale = dim.get("rationale", "optional")
        if rationale not in RATIONALE:
            raise InvalidShape("'rationale' is none, optional or required.", fields={f"{field}.rationale": ["none, optional or required"]})
        clean.append({"key": key, "label": _text(dim.get("label") or key, field=f"{field}.label", max_len=100), "scale": scale, "rationale": rationale})
    return clean


def _text(value, *, field: str, max_len: int, required: bool = True) -> str:
    if value is None and not required:
        return ""
    if not isinstance(value, str):
        raise InvalidShape(f"'{field}' must be text.", fields={field: ["Must be a string."]})
    if required and not value.strip():
        raise InvalidShape(f"'{field}' is required.", fields={field: ["Required."]})
    if len(value) > max_len:
        raise InvalidShape(f"'{field}' is longer than {max_len} characters.", fields={field: [f"At most {max_len} characters."]})
    return check_text(value, field=field)


def validate_task_data(project: Project, data) -> dict:
    """Check the non-image part of a task's data; returns the data to store (image handled by the importer)."""
    if not isinstance(data, dict):
        raise InvalidShape("'data' must be an object.", fields={"data": ["Must be a JSON object."]})
    kind = project.task_type
    if kind == TaskType.OCR:
        if "image" not in data:
            raise InvalidShape("OCR tasks need 'data.image' (base64 PNG or JPEG).", fields={"data.image": ["Required."]})
        if "hint" in data:
            _text(data["hint"], field="data.hint", max_len=MAX_HINT, required=False)
        unknown = set(data) - {"image", "hint"}
    elif kind == TaskType.CLASSIFICATION:
        if not data.get("text") and "image" not in data:
            raise InvalidShape("Classification tasks need 'data.text' and/or 'data.image'.", fields={"data": ["text or image required."]})
        if "text" in data:
            _text(data["text"], field="data.text", max_len=MAX_TEXT)
        unknown = set(data) - {"text", "image"}
    elif kind == TaskType.MULTILABEL:
        if not data.get("text") and "image" not in data:
            raise InvalidShape("Multi-label tasks need 'data.text' and/or 'data.image'.", fields={"data": ["text or image required."]})
        if "text" in data:
            _text(data["text"], field="data.text", max_len=MAX_TEXT)
        unknown = set(data) - {"text", "image"}
    elif kind == TaskType.PAIRWISE:
        _prompt(data.get("prompt"))
        for key in ("response_a", "response_b"):
            _text(data.get(key), field=f"data.{key}", max_len=MAX_TEXT)
        unknown = set(data) - {"prompt", "response_a", "response_b"}
    elif kind == TaskType.RANKING:
        _prompt(data.get("prompt"))
        responses = data.get("responses")
        if not isinstance(responses, list) or not MIN_RESPONSES <= len(responses) <= MAX_RESPONSES:
            raise InvalidShape(
                f"Ranking tasks need 'data.responses': {MIN_RESPONSES} to {MAX_RESPONSES} texts.", fields={"data.responses": ["2 to 9 texts."]}
            )
        for i, response in enumerate(responses):
            _text(response, field=f"data.responses[{i}]", max_len=MAX_TEXT)
        unknown = set(data) - {"prompt", "responses"}
    else:  # rubric, rewrite: a prompt and one response to rate or to improve
        _prompt(data.get("prompt"))
        _text(data.get("response"), field="data.response", max_len=MAX_TEXT)
        unknown = set(data) - {"prompt", "response"}
    if unknown:
        raise InvalidShape(f"Unknown fields in data: {', '.join(sorted(unknown))}.", fields={"data": ["Unknown fields."]})
    return {k: v for k, v in data.items() if k != "image"}


def normalize_ocr(text: str, *, case_sensitive: bool) -> str:
    """Exact match after normalization: Unicode NFKC, trimmed, inner whitespace collapsed, case folded unless it matters."""
    text = " ".join(unicodedata.normalize("NFKC", text).split())
    return text if case_sensitive else text.casefold()


def validate_answer(project: Project, payload, task_data: dict | None = None) -> tuple[dict, str]:
    """Validate a worker's answer to a task (its `task_data` for types whose answers refer to it: ranking);
    return (payload to store, normalized value)."""
    if not isinstance(payload, dict):
        raise InvalidShape("The answer must be a JSON object.", fields={"answer": ["Must be an object."]})
    kind = project.task_type
    if kind == TaskType.OCR:
        text = _text(payload.get("text"), field="text", max_len=MAX_OCR_ANSWER, required=False)
        if not text.strip():
            raise InvalidShape("Type the text you see (or skip the task).", fields={"text": ["Required."]})
        return {"text": text}, normalize_ocr(text, case_sensitive=project.case_sensitive)
    if kind == TaskType.CLASSIFICATION:
        choice = payload.get("choice")
        if choice not in project.choices:
            raise InvalidShape(
                f"'choice' must be one of: {', '.join(map(str, project.choices))}.", fields={"choice": ["Not one of the project's choices."]}
            )
        return {"choice": choice}, str(choice)
    if kind == TaskType.PAIRWISE:
        preferred = payload.get("preferred")
        if preferred not in PAIRWISE_CHOICES:
            raise InvalidShape("'preferred' must be 'a', 'b' or 'tie'.", fields={"preferred": ["Must be a, b or tie."]})
        reason = _text(payload.get("reason") or "", field="reason", max_len=MAX_REASON, required=False)
        return {"preferred": preferred, "reason": reason}, preferred
    if kind == TaskType.MULTILABEL:
        return _multilabel_answer(project, payload)
    if kind == TaskType.RANKING:
        return _ranking_answer(project, payload, task_data)
    if kind == TaskType.RUBRIC:
        return _rubric_answer(project, payload)
    text = _text(payload.get("text"), field="text", max_len=MAX_TEXT)  # rewrite
    return {"text": text}, normalize_ocr(text, case_sensitive=True)


def _multilabel_answer(project: Project, payload: dict) -> tuple[dict, str]:
    chosen = payload.get("choices")
    if not isinstance(chosen, list) or any(c not in project.choices for c in chosen) or len(set(chosen)) != len(chosen):
        raise InvalidShape(
            f"'choices' is a list of distinct labels from: {', '.join(map(str, project.choices))}.", fields={"choices": ["Not the project's labels."]}
        )
    config = project.task_config or {}
    low, high = config.get("min_choices", 0), config.get("max_choices", len(project.choices))
    if not low <= len(chosen) <= high:
        raise InvalidShape(f"Choose {low} to {high} labels.", fields={"choices": [f"{low} to {high} labels."]})
    ordered = [c for c in project.choices if c in chosen]  # the project's order: the same set is the same answer
    return {"choices": ordered}, "|".join(ordered)


def _ranking_answer(project: Project, payload: dict, task_data: dict | None) -> tuple[dict, str]:
    """{"order": [[best…], [next…], …]}: groups of response indexes, best first; a group of several is a tie."""
    order = payload.get("order")
    count = len((task_data or {}).get("responses") or [])
    flat = [i for group in order for i in group] if isinstance(order, list) and all(isinstance(g, list) and g for g in order) else None
    if flat is None or not all(isinstance(i, int) and not isinstance(i, bool) for i in flat) or sorted(flat) != list(range(count)):
        raise InvalidShape(
            f"'order' lists every response (0 to {count - 1}) once, best first, as groups: [[2], [0], [1]].",
            fields={"order": ["Every response once."]},
        )
    if not (project.task_config or {}).get("allow_ties") and any(len(group) > 1 for group in order):
        raise InvalidShape("This project does not allow ties: put the responses in a strict order.", fields={"order": ["No ties."]})
    order = [sorted(group) for group in order]
    return {"order": order}, ">".join("=".join(str(i) for i in group) for group in order)


def _rubric_answer(project: Project, payload: dict) -> tuple[dict, str]:
    """{"scores": {dimension: point index 0…}, "rationales": {dimension: text}}."""
    import json

    dimensions = (project.task_config or {}).get("dimensions") or []
    scores, rationales = payload.get("scores"), payload.get("rationales") or {}
    if not isinstance(scores, dict) or set(scores) != {d["key"] for d in dimensions} or not isinstance(rationales, dict):
        raise InvalidShape(
            "'scores' rates every dimension: " + ", ".join(d["key"] for d in dimensions) + ".", fields={"scores": ["Every dimension, once."]}
        )
    clean_scores, clean_reasons = {}, {}
    for dim in dimensions:
        key, score = dim["key"], scores[dim["key"]]
        if not isinstance(score, int) or isinstance(score, bool) or not 0 <= score < len(dim["scale"]):
            raise InvalidShape(
                f"'{key}' is a point of its scale, 0 to {len(dim['scale']) - 1}.", fields={f"scores.{key}": [f"0 to {len(dim['scale']) - 1}."]}
            )
        reason = _text(rationales.get(key) or "", field=f"rationales.{key}", max_len=MAX_REASON, required=False)
        if dim["rationale"] == "required" and not reason.strip():
            raise InvalidShape(f"Explain your rating of {dim['label']}.", fields={f"rationales.{key}": ["Required."]})
        clean_scores[key] = score
        if reason.strip() and dim["rationale"] != "none":
            clean_reasons[key] = reason
    return {"scores": clean_scores, "rationales": clean_reasons}, json.dumps(clean_scores, sort_keys=True, separators=(",", ":"))


def gold_value(project: Project, gold, task_data: dict | None = None) -> str:
    """Normalize a gold answer given by the client at import (same shape as a worker answer)."""
    if project.task_type == TaskType.REWRITE:
        raise InvalidShape("Rewrite tasks have no single right answer: they are reviewed, not checked against gold.", fields={"gold": ["Not for rewrites."]})
    if isinstance(gold, str):
        gold = {TaskType.OCR: {"text": gold}, TaskType.CLASSIFICATION: {"choice": gold}}.get(project.task_type, {"preferred": gold})
    _, value = validate_answer(project, gold, task_data)
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
    if kind == TaskType.MULTILABEL:
        return {"choices": value.split("|") if value else []}
    if kind == TaskType.RANKING:
        return {"order": [[int(i) for i in group.split("=")] for group in value.split(">")]}
    if kind == TaskType.RUBRIC:
        import json

        rationales = {}
        for payload in answers_payloads:
            for key, reason in (payload.get("rationales") or {}).items():
                rationales.setdefault(key, []).append(reason)
        return {"scores": json.loads(value), "rationales": rationales}
    if kind == TaskType.REWRITE:
        return {"text": answers_payloads[0]["text"] if answers_payloads else value}
    reasons = [p.get("reason", "") for p in answers_payloads if p.get("reason")]
    return {"preferred": value, "reasons": reasons}


def agrees(project: Project, value: str, label_value: str) -> bool:
    """Whether an answer's value agrees with the label's: equal, or for a rubric within its tolerance on every dimension."""
    tolerance = (project.task_config or {}).get("tolerance", 0) if project.task_type == TaskType.RUBRIC else 0
    if not tolerance:
        return value == label_value
    return _rubric_distance(value, label_value) <= tolerance


def _rubric_distance(a: str, b: str) -> int:
    import json

    x, y = json.loads(a), json.loads(b)
    return max(abs(x[key] - y.get(key, 10**6)) for key in x)


THOUSANDTH = Decimal("0.001")


def share(count: int, total: int) -> Decimal:
    """count / total rounded down to 3 decimals (0 when there is nothing to count): how agreement is reported."""
    if total <= 0:
        return Decimal(0)
    return (Decimal(count) / Decimal(total)).quantize(THOUSANDTH, rounding=ROUND_DOWN)


def rubric_agreement(values: list[str], tolerance: int):
    """(winning value or None, its share): the answer the most answers agree with within `tolerance` on every dimension.

    Equal support for answers that do not agree with each other is no consensus (as a tie is for equality).
    Among equally supported answers that do agree, the one closest to the others wins, then the smallest value.
    """
    if not values:
        return None, share(0, 0)
    support = {v: sum(1 for u in values if _rubric_distance(u, v) <= tolerance) for v in set(values)}
    best = max(support.values())
    winners = sorted(v for v, n in support.items() if n == best)
    if any(_rubric_distance(a, b) > tolerance for a in winners for b in winners):
        return None, share(best, len(values))
    winner = min(winners, key=lambda v: (sum(_rubric_distance(u, v) for u in values), v))
    return winner, share(best, len(values))


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
