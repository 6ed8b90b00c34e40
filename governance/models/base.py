"""Append-only records: written once, never changed or deleted through the ORM."""

from __future__ import annotations

from coop.errors import Conflict
from governance.error_codes import GovernanceErrorCode


class AppendOnly:
    """Mixin for models whose rows are history (logs, vote history, ballots, policy values, exports).

    Saving an existing row or deleting one raises; the admin shows them read-only.
    """

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise Conflict(f"{type(self).__name__} rows are append-only and cannot be changed.", code=GovernanceErrorCode.APPEND_ONLY)
        return super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise Conflict(f"{type(self).__name__} rows are append-only and cannot be deleted.", code=GovernanceErrorCode.APPEND_ONLY)
