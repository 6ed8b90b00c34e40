"""Model-assisted labeling: hooks that suggest an answer for a task (other apps register here, e.g. mlops).

A hook is `hook(*, task, project, assignment) -> str | None`; it records what
it served to the assignment, and a lookup in SERVED_LOOKUPS,
`lookup(*, assignment) -> str | None`, gives it back. For a project with
`model_assisted` on, the work-next API puts the first non-empty suggestion in
`task.data.prefill` and the labeling screen pre-fills its input with it. On
submit, the answer's `prefilled` and `edited` come from what the server
served (`served_prefill`), not from what the client sends. A hook that fails
never blocks work: the task is served without a suggestion.
"""

from __future__ import annotations

import logging
from typing import Callable

logger = logging.getLogger(__name__)

PREFILL_HOOKS: list[Callable[..., str | None]] = []
SERVED_LOOKUPS: list[Callable[..., str | None]] = []


def prefill_for(*, task, project, assignment=None) -> str:
    """The first suggestion a hook gives for the task ('' when the project is not model-assisted or none does)."""
    if not project.model_assisted:
        return ""
    for hook in PREFILL_HOOKS:
        try:
            value = hook(task=task, project=project, assignment=assignment)
        except Exception:
            logger.exception("Pre-fill hook %r failed for task %s", hook, task.pk)
            continue
        if value:
            return str(value)[:1000]
    return ""


def served_prefill(*, assignment) -> str:
    """The suggestion the server served to `assignment` ('' when none was)."""
    for lookup in SERVED_LOOKUPS:
        value = lookup(assignment=assignment)
        if value:
            return str(value)[:1000]
    return ""
