"""The governance log: every governance service writes here, in its own transaction.

Each entry is chained to the one before it (governance.audit_chain). Writers
are serialised so the chain never forks: on PostgreSQL a transaction-scoped
advisory lock is taken before the head is read and held until the writer's
transaction ends (so call log_write as the last write of a service, after its
row locks); SQLite allows one writer at a time anyway. The unique
`previous_hash` is the database's backstop: a second entry claiming the same
predecessor fails instead of forking the chain.
"""

from __future__ import annotations

import json

from django.db import connection, models, transaction
from django.utils import timezone

from coop.models import User

from ..audit_chain import GENESIS_HASH, row_hash
from ..models import GovernanceLog

# pg_advisory_xact_lock key of the governance log's chain head ("gov-log" as an int).
CHAIN_LOCK_KEY = 0x676F762D6C6F67


def _lock_chain_head() -> str:
    """Serialise log writers until the current transaction ends; returns the head's hash."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [CHAIN_LOCK_KEY])
    head = GovernanceLog.objects.order_by("-id").values_list("entry_hash", flat=True).first()
    return head or GENESIS_HASH


def log_write(
    *, actor: User | None, action: str, summary: str, obj: models.Model | None = None, data: dict | None = None
) -> GovernanceLog:
    """Append one entry. `obj` names the object acted on; `data` must never hold a secret ballot's choice.

    Takes the chain lock (see the module docstring) for the rest of the caller's transaction.
    """
    # Hash what readers will get back from the JSON column, not the Python objects passed in.
    data = json.loads(json.dumps(data or {}))
    with transaction.atomic(savepoint=False):  # a transaction for the lock to last; no savepoint round trips
        previous = _lock_chain_head()
        entry = GovernanceLog(
            actor=actor if actor is not None and actor.pk else None,
            action=action,
            object_type=obj._meta.label_lower if obj is not None else "",
            object_id=str(obj.pk) if obj is not None else "",
            summary=summary[:300],
            data=data,
            created_at=timezone.now(),
            previous_hash=previous,
        )
        entry.entry_hash = row_hash(entry, previous_hash=previous)
        entry.save(force_insert=True)
    return entry
