"""The governance log (append-only, readable by every member) and members' notification preferences."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from ..audit_chain import GENESIS_HASH  # noqa: F401  (re-exported)
from .base import AppendOnly


class GovernanceLog(AppendOnly, models.Model):
    """Append-only record of every governance action: who, what, on which object, when.

    For secret ballots a vote is logged as participation only (who voted,
    never the choice).

    Tamper-evident: `entry_hash` is sha256 over a canonical JSON of the entry's
    content and `previous_hash` (the entry before it, GENESIS_HASH for the
    first), see governance.audit_chain. `previous_hash` is unique, so two
    entries can never claim the same predecessor (the chain cannot fork). The
    database refuses UPDATE (and on PostgreSQL DELETE) of these rows.
    """

    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    action = models.CharField(max_length=64, db_index=True)
    object_type = models.CharField(max_length=64, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    summary = models.CharField(max_length=300)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False, db_index=True)
    previous_hash = models.CharField(max_length=64, editable=False)
    entry_hash = models.CharField(max_length=64, editable=False)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["object_type", "object_id"], name="governance_log_object")]
        constraints = [
            models.UniqueConstraint(fields=["previous_hash"], name="governance_log_chain_does_not_fork"),
        ]

    def __str__(self):
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.action}: {self.summary}"


class NotificationPreference(models.Model):
    """A member's choice between a notification per governance event and one daily digest."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="governance_preference")
    daily_digest = models.BooleanField(default=False)
    last_digest_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return f"{self.user}: {'daily digest' if self.daily_digest else 'each event'}"
