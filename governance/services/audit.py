"""The governance log: every governance service writes here, in its own transaction."""

from __future__ import annotations

from django.db import models

from coop.models import User

from ..models import GovernanceLog


def log_write(
    *, actor: User | None, action: str, summary: str, obj: models.Model | None = None, data: dict | None = None
) -> GovernanceLog:
    """Append one entry. `obj` names the object acted on; `data` must never hold a secret ballot's choice."""
    return GovernanceLog.objects.create(
        actor=actor if actor is not None and actor.pk else None,
        action=action,
        object_type=obj._meta.label_lower if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        summary=summary[:300],
        data=data or {},
    )
