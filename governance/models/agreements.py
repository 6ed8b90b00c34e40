r"""Contracts and data-use agreements (DUAs) between client organizations and the co-op.

Both are versioned the same way: every version is a row; versions of one
agreement share a `family` UUID and count up from 1. An amendment is a new
draft row (version n+1, `previous` = the version it amends) that needs its own
ratification vote; when it becomes active the previous active version becomes
`superseded`. Rows are never edited after they leave `draft`.

Status machine (governance.services.agreements holds the transitions):

    draft -> proposed -> ratified -> active -> expired | terminated
                      \-> draft (vote failed or withdrawn)      active -> superseded (by a newer version)
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q

from coop.models import ClientOrganization, TimeStampedModel
from coop.vocabulary import TaskType  # noqa: F401  (re-exported for governance code)

from .base import AppendOnly


class AgreementStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    PROPOSED = "proposed", "Proposed (vote open)"
    RATIFIED = "ratified", "Ratified (starts later)"
    ACTIVE = "active", "Active"
    EXPIRED = "expired", "Expired"
    TERMINATED = "terminated", "Terminated"
    SUPERSEDED = "superseded", "Superseded by a newer version"


class PersonalDataClass(models.TextChoices):
    NONE = "none", "No personal data"
    PSEUDONYMISED = "pseudonymised", "Pseudonymised personal data"
    PERSONAL = "personal", "Personal data"
    SPECIAL = "special_category", "Special-category personal data (health, biometrics, ...)"


# Statuses in which a version can no longer change.
ENDED_STATUSES = (AgreementStatus.EXPIRED, AgreementStatus.TERMINATED)
OPEN_DRAFT_STATUSES = (AgreementStatus.DRAFT, AgreementStatus.PROPOSED)


class Agreement(TimeStampedModel):
    """What contracts and DUAs share: versioning, status, and the vote that ratified the version."""

    family = models.UUIDField(default=uuid.uuid4, editable=False, db_index=True, help_text="Shared by all versions.")
    version = models.PositiveIntegerField(default=1)
    previous = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=16, choices=AgreementStatus.choices, default=AgreementStatus.DRAFT, db_index=True)
    ratified_by = models.ForeignKey(
        "governance.Proposal",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The vote that ratified it.",
    )
    ratified_at = models.DateTimeField(null=True, blank=True)
    activated_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True, help_text="When it expired, was terminated or superseded.")
    end_reason = models.TextField(blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        abstract = True
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["family", "version"], name="%(class)s_one_row_per_version"),
            # At most one version of an agreement is being drafted or voted on at a time ...
            models.UniqueConstraint(
                fields=["family"], condition=Q(status__in=["draft", "proposed"]), name="%(class)s_one_open_draft_per_family"
            ),
            # ... and at most one is in force.
            models.UniqueConstraint(fields=["family"], condition=Q(status="active"), name="%(class)s_one_active_per_family"),
            models.CheckConstraint(condition=Q(version__gte=1), name="%(class)s_version_from_one"),
        ]

    @property
    def is_amendment(self) -> bool:
        return self.version > 1

    @property
    def is_editable(self) -> bool:
        return self.status == AgreementStatus.DRAFT


class Contract(Agreement):
    """A client organization's contract with the co-op: scope, task types, minimum pay per task, terms."""

    organization = models.ForeignKey(ClientOrganization, on_delete=models.PROTECT, related_name="contracts")
    title = models.CharField(max_length=200)
    scope = models.TextField(help_text="What work the client may post, in plain words.")
    task_types = models.JSONField(default=list, help_text='Task type codes, e.g. ["ocr", "classification"].')
    rate_card = models.JSONField(
        default=dict, help_text='Minimum pay per task by task type, as decimal strings: {"ocr": "0.12"} (USD).'
    )
    payment_terms = models.TextField(help_text="When and how the client pays, e.g. escrow before publishing.")
    term_start = models.DateField()
    term_end = models.DateField()
    termination_notice_days = models.PositiveIntegerField(default=30)

    class Meta(Agreement.Meta):
        constraints = [
            *Agreement.Meta.constraints,
            models.CheckConstraint(condition=Q(term_end__gte=models.F("term_start")), name="contract_term_ends_after_start"),
        ]

    def __str__(self):
        return f"{self.title} v{self.version} ({self.organization})"


class DataUseAgreement(Agreement):
    """What a client may do with the data the co-op's members label, ratified by the members.

    Retention: the client may keep the data for `retention_days` after the
    contract ends (see governance.selectors.dua_retention_ends_on); then it
    must delete it and attest the deletion.
    """

    contract = models.ForeignKey(Contract, on_delete=models.PROTECT, related_name="data_use_agreements")
    permitted_purposes = models.JSONField(default=list, help_text='Purpose codes, e.g. ["model_training", "evaluation"].')
    prohibited_uses = models.JSONField(default=list, help_text="Uses that are never allowed, in plain words.")
    # Rights are granted one by one (after the Montreal Data License): nothing is implied.
    train_models = models.BooleanField(default=False)
    publish_trained_models = models.BooleanField(default=False)
    commercial_use_of_outputs = models.BooleanField(default=False)
    redistribute_data = models.BooleanField(default=False)
    create_derived_datasets = models.BooleanField(default=False)
    retention_days = models.PositiveIntegerField(help_text="Days the client may keep the data after the contract ends.")
    deletion_requested_at = models.DateTimeField(null=True, blank=True)
    deletion_attested_at = models.DateTimeField(null=True, blank=True)
    deletion_attested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    deletion_statement = models.TextField(blank=True)
    attribution_required = models.BooleanField(default=True)
    attribution_text = models.TextField(blank=True, help_text="How the co-op and its workers are credited.")
    sensitive_content_categories = models.JSONField(default=list, blank=True)
    welfare_provisions = models.TextField(blank=True, help_text="Warnings, opt-outs, breaks, support for workers.")
    personal_data_class = models.CharField(max_length=20, choices=PersonalDataClass.choices, default=PersonalDataClass.NONE)
    reidentification_banned = models.BooleanField(default=True)
    onward_transfer_allowed = models.BooleanField(default=False)
    subcontractors = models.JSONField(default=list, blank=True, help_text="Named subcontractors bound by the same terms.")
    breach_reporting_hours = models.PositiveIntegerField(default=72)
    audit_rights = models.TextField(blank=True)
    training_summary_required = models.BooleanField(default=False, help_text="Public training-data summary (EU AI Act Art. 53).")
    training_summary = models.TextField(blank=True)
    revenue_share_pct = models.DecimalField(max_digits=5, decimal_places=2, default=0, help_text="Data dividend, 0-100 %.")
    signatories = models.JSONField(default=list, blank=True, help_text='[{"name": ..., "role": ..., "date": "YYYY-MM-DD"}]')

    class Meta(Agreement.Meta):
        verbose_name = "data-use agreement"
        constraints = [
            *Agreement.Meta.constraints,
            models.CheckConstraint(
                condition=Q(revenue_share_pct__gte=0) & Q(revenue_share_pct__lte=100), name="dua_revenue_share_is_a_percentage"
            ),
            models.CheckConstraint(condition=Q(breach_reporting_hours__gte=1), name="dua_breach_reporting_hours_positive"),
            models.CheckConstraint(
                condition=Q(personal_data_class="none") | Q(reidentification_banned=True),
                name="dua_personal_data_bans_reidentification",
            ),
            models.CheckConstraint(
                condition=Q(deletion_attested_at__isnull=True) | ~Q(deletion_statement=""),
                name="dua_deletion_attestation_has_statement",
            ),
        ]

    def __str__(self):
        return f"DUA v{self.version} for {self.contract.title}"


class DataExportLog(AppendOnly, models.Model):
    """Append-only: one row per export of labelled data to a client, with the declared purpose."""

    dua = models.ForeignKey(DataUseAgreement, on_delete=models.PROTECT, related_name="exports")
    organization = models.ForeignKey(ClientOrganization, on_delete=models.PROTECT, related_name="+")
    purpose = models.CharField(max_length=48)
    project_id = models.PositiveBigIntegerField(help_text="The marketplace project exported.")
    rows = models.PositiveIntegerField(help_text="Rows actually sent (counted as the export streamed).")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    finished_at = models.DateTimeField(
        null=True, blank=True, help_text="When the export finished or was cut off; empty while it streams (or if the server died)."
    )

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.organization}: {self.rows} rows of project {self.project_id} for {self.purpose}"
