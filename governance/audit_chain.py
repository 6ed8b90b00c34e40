"""The governance log's hash chain: pure functions, no ORM (used by the service, the migration and audit_verify).

entry_hash = sha256(canonical JSON of {"v", "actor", "action", "object_type",
"object_id", "summary", "data", "created_at", "previous_hash"}), hex. The
canonical JSON has sorted keys, no spaces, UTF-8, and integral floats written
as integers (PostgreSQL's jsonb returns 1e20 as an integer); `created_at` is
UTC ISO 8601 with microseconds. Changing anything here breaks every existing
chain: add a new "v" instead.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json

GENESIS_HASH = "0" * 64  # the previous hash of the first entry
VERSION = 1


def _normalise(value):
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {str(key): _normalise(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_normalise(item) for item in value]
    return value


def canonical_json(value) -> str:
    return json.dumps(_normalise(value), sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def timestamp(value: dt.datetime) -> str:
    if value.tzinfo is None:  # USE_TZ=False databases store naive UTC
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC).isoformat(timespec="microseconds")


def entry_hash(
    *,
    actor_id: int | None,
    action: str,
    object_type: str,
    object_id: str,
    summary: str,
    data,
    created_at: dt.datetime,
    previous_hash: str,
) -> str:
    content = {
        "v": VERSION,
        "actor": actor_id,
        "action": action,
        "object_type": object_type,
        "object_id": object_id,
        "summary": summary,
        "data": data,
        "created_at": timestamp(created_at),
        "previous_hash": previous_hash,
    }
    return hashlib.sha256(canonical_json(content).encode()).hexdigest()


def row_hash(row, *, previous_hash: str) -> str:
    """entry_hash of a GovernanceLog row (a model instance, historical or current) after `previous_hash`."""
    return entry_hash(
        actor_id=row.actor_id,
        action=row.action,
        object_type=row.object_type,
        object_id=row.object_id,
        summary=row.summary,
        data=row.data,
        created_at=row.created_at,
        previous_hash=previous_hash,
    )


class ChainBreak(Exception):
    """The first entry at which the chain does not hold: its id and what is wrong."""

    def __init__(self, entry_id: int, reason: str):
        super().__init__(f"entry {entry_id}: {reason}")
        self.entry_id = entry_id
        self.reason = reason


def chain_verify(rows) -> tuple[int, str]:
    """Walk GovernanceLog rows in id order; returns (entries, head hash) or raises ChainBreak at the first break.

    An entry whose content was edited fails its own hash; an entry removed,
    inserted or rewritten together with its hash breaks the link of the entry
    after it (that entry's previous_hash no longer names its predecessor).
    Truncating the newest entries leaves a shorter, valid chain: compare the
    head hash with one recorded earlier to detect that.
    """
    previous, previous_id, count = GENESIS_HASH, None, 0
    for row in rows:
        if row.previous_hash != previous:
            after = f"entry {previous_id}" if previous_id is not None else "the start of the log"
            raise ChainBreak(
                row.pk,
                f"its previous_hash {row.previous_hash[:12]}… does not match {after} ({previous[:12]}…): "
                "an entry before it was removed, inserted or rewritten",
            )
        if row_hash(row, previous_hash=row.previous_hash) != row.entry_hash:
            raise ChainBreak(row.pk, "its content does not match its hash: the entry was changed after it was written")
        previous, previous_id, count = row.entry_hash, row.pk, count + 1
    return count, previous
