"""Model-assisted labeling: hooks that suggest an answer for a task (other apps register here, e.g. mlops).

A hook is `hook(*, task, project) -> str | None`. For a project with
`model_assisted` on, the work-next API puts the first non-empty suggestion in
`task.data.prefill`; the labeling screen pre-fills its input with it and sends
it back as `prefilled`, so the answer records whether the worker edited it. A
hook that fails never blocks work: the task is served without a suggestion.
"""

from __future__ import annotations

import logging
from typing import Callable

logger = logging.getLogger(__name__)

PREFILL_HOOKS: list[Callable[..., str | None]] = []


def prefill_for(*, task, project) -> str:
    """The first suggestion a hook gives for the task ('' when the project is not model-assisted or none does)."""
    if not project.model_assisted:
        return ""
    for hook in PREFILL_HOOKS:
        try:
            value = hook(task=task, project=project)
        except Exception:
            logger.exception("Pre-fill hook %r failed for task %s", hook, task.pk)
            continue
        if value:
            return str(value)[:1000]
    return ""
