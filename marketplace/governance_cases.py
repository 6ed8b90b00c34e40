"""How the marketplace's objects appear in governance cases: an appealed answer shown in full to its deciders."""

from __future__ import annotations

import base64

from governance.cases import register_case_view

from .models import AcceptedLabel, Answer, ReviewDecision
from .rendering import render_instructions

INLINE_IMAGE_LIMIT = 512 * 1024  # CAPTCHA-sized images are shown inline; larger ones are described


def _inline_image(task) -> str:
    if not task.image:
        return ""
    try:
        if task.image.size > INLINE_IMAGE_LIMIT:
            return ""
        with task.image.open("rb") as handle:
            return "data:image/png;base64," + base64.b64encode(handle.read()).decode()
    except OSError:
        return ""


@register_case_view("marketplace.answer")
def appealed_answer(proposal, viewer) -> dict:
    """The task (text or image), every answer to it, the label, who rejected it and why, and the worker's statement."""
    answer = Answer.objects.select_related("task__project", "worker__membership").get(pk=proposal.subject_id)
    task = answer.task
    others = (
        Answer.objects.filter(task=task).exclude(pk=answer.pk).order_by("submitted_at", "pk").values("payload", "status", "submitted_at")
    )
    decisions = ReviewDecision.objects.filter(answer=answer).select_related("reviewer__membership").order_by("created_at")
    return {
        "template": "marketplace/partials/appeal_case.html",
        "proposal": proposal,
        "answer": answer,
        "task": task,
        "project": task.project,
        "instructions_html": render_instructions(task.project.instructions),
        "image": _inline_image(task),
        "other_answers": list(others),
        "label": AcceptedLabel.objects.filter(task=task).first(),
        "decisions": decisions,
    }
