"""MLOps: dataset snapshots with provenance, training runs, the model registry, usage and promotions.

A DatasetSnapshot and everything under it (items, exclusions, sources,
contributors) is immutable once written: `save()` on an existing row and
`delete()` raise. A ModelVersion points at exactly one snapshot and one
training run, so every model can be traced to the labels, workers and
data-use agreements it was made from.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from coop.errors import Conflict
from coop.models import ClientOrganization, TimeStampedModel
from mlops.error_codes import MlopsErrorCode


class Immutable(models.Model):
    """Rows written once (bulk_create or save on a new instance) and never changed or deleted through the ORM."""

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise Conflict(f"{type(self).__name__} rows are immutable.", code=MlopsErrorCode.IMMUTABLE)
        return super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise Conflict(f"{type(self).__name__} rows are immutable.", code=MlopsErrorCode.IMMUTABLE)


class Split(models.TextChoices):
    TRAIN = "train", "Training"
    VAL = "val", "Validation"
    TEST = "test", "Test"


class ExclusionReason(models.TextChoices):
    NO_DUA = "no_dua", "The project has no data-use agreement"
    DUA_NOT_IN_FORCE = "dua_not_in_force", "The data-use agreement is not in force"
    DUA_NO_TRAINING = "dua_no_training", "The data-use agreement does not permit training models"
    DUA_ENDED = "dua_ended", "The data-use agreement expired or was terminated"
    DELETION_ATTESTED = "deletion_attested", "The client attested deletion of the data"
    NO_IMAGE = "no_image", "The task has no image"
    IMAGE_MISSING = "image_missing", "The image file is missing from storage"
    EMPTY_TEXT = "empty_text", "The label text is empty"
    TEXT_TOO_LONG = "text_too_long", "The label text is longer than the snapshot's maximum length"
    TEXT_OUTSIDE_CHARSET = "text_outside_charset", "The label text has characters outside the snapshot's charset"


class DatasetSnapshot(Immutable):
    """An immutable set of accepted OCR labels with a deterministic train/validation/test split."""

    name = models.CharField(max_length=100, help_text="What the data is for, e.g. the model name.")
    seed = models.PositiveIntegerField(default=0, help_text="Seeds the split: hash(seed, task external id).")
    val_fraction = models.DecimalField(max_digits=4, decimal_places=3)
    test_fraction = models.DecimalField(max_digits=4, decimal_places=3)
    charset = models.CharField(max_length=500, help_text="Characters the included texts use (sorted).")
    allowed_charset = models.CharField(max_length=500, blank=True, help_text="The charset asked for; empty: any.")
    max_len = models.PositiveSmallIntegerField(help_text="Longest included text.")
    max_len_allowed = models.PositiveSmallIntegerField()
    item_count = models.PositiveIntegerField(default=0)
    train_count = models.PositiveIntegerField(default=0)
    val_count = models.PositiveIntegerField(default=0)
    test_count = models.PositiveIntegerField(default=0)
    excluded_count = models.PositiveIntegerField(default=0)
    projects = models.ManyToManyField("marketplace.Project", related_name="+", blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(item_count=models.F("train_count") + models.F("val_count") + models.F("test_count")),
                name="snapshot_counts_add_up",
            ),
        ]

    def __str__(self):
        return f"snapshot {self.pk} ({self.name}, {self.item_count} labels)"


class SnapshotItem(Immutable):
    """One included label: where its image is, its text, who made it and the agreement it came under."""

    snapshot = models.ForeignKey(DatasetSnapshot, on_delete=models.PROTECT, related_name="items")
    label = models.ForeignKey("marketplace.AcceptedLabel", on_delete=models.PROTECT, related_name="+")
    project = models.ForeignKey("marketplace.Project", on_delete=models.PROTECT, related_name="+")
    dua = models.ForeignKey("governance.DataUseAgreement", on_delete=models.PROTECT, related_name="+")
    image = models.CharField(max_length=300, help_text="Path in the media storage.")
    text = models.CharField(max_length=200)
    split = models.CharField(max_length=5, choices=Split.choices)
    workers = models.JSONField(default=list, help_text="Ids of the workers whose agreeing answers made the label.")

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["snapshot", "label"], name="snapshot_item_once_per_label")]
        indexes = [models.Index(fields=["snapshot", "split", "id"], name="snapshot_item_by_split")]


class SnapshotExclusion(Immutable):
    """A label that was left out of a snapshot, and why."""

    snapshot = models.ForeignKey(DatasetSnapshot, on_delete=models.PROTECT, related_name="exclusions")
    label = models.ForeignKey("marketplace.AcceptedLabel", on_delete=models.PROTECT, related_name="+")
    project = models.ForeignKey("marketplace.Project", on_delete=models.PROTECT, related_name="+")
    reason = models.CharField(max_length=24, choices=ExclusionReason.choices)
    detail = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["snapshot", "label"], name="snapshot_exclusion_once_per_label")]


class SnapshotSource(Immutable):
    """Per project (and agreement) of a snapshot: how many labels it gave; drives entitlement and billing terms."""

    snapshot = models.ForeignKey(DatasetSnapshot, on_delete=models.PROTECT, related_name="sources")
    project = models.ForeignKey("marketplace.Project", on_delete=models.PROTECT, related_name="+")
    organization = models.ForeignKey(ClientOrganization, on_delete=models.PROTECT, related_name="+")
    dua = models.ForeignKey("governance.DataUseAgreement", on_delete=models.PROTECT, related_name="+")
    item_count = models.PositiveIntegerField()
    max_label_id = models.BigIntegerField(help_text="Largest accepted-label id considered (new labels come after it).")
    revenue_share_pct = models.DecimalField(max_digits=5, decimal_places=2, help_text="The DUA's data dividend when snapshotted.")
    publish_trained_models = models.BooleanField(help_text="Whether the DUA lets models trained on this data serve other clients.")

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["snapshot", "project", "dua"], name="snapshot_source_unique")]


class DatasetContributor(Immutable):
    """How many of a snapshot's included labels each worker helped make (a label with 3 agreeing workers counts for each)."""

    snapshot = models.ForeignKey(DatasetSnapshot, on_delete=models.PROTECT, related_name="contributors")
    worker = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="dataset_contributions")
    label_count = models.PositiveIntegerField()

    class Meta:
        ordering = ["-label_count", "worker_id"]
        constraints = [
            models.UniqueConstraint(fields=["snapshot", "worker"], name="one_contributor_row_per_worker"),
            models.CheckConstraint(condition=Q(label_count__gt=0), name="contributor_has_labels"),
        ]


class TrainingRun(TimeStampedModel):
    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"

    FINISHED = (Status.SUCCEEDED, Status.FAILED, Status.CANCELLED)

    model_name = models.CharField(max_length=100)
    snapshot = models.ForeignKey(DatasetSnapshot, on_delete=models.PROTECT, related_name="runs")
    config = models.JSONField(help_text="mlops.ocr.TrainConfig fields.")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED, db_index=True)
    status_reason = models.CharField(max_length=300, blank=True)
    auto_promote = models.BooleanField(default=False, help_text="Promote the model when training succeeds.")
    cancel_requested = models.BooleanField(default=False)
    device = models.CharField(max_length=120, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    progress = models.JSONField(default=dict, blank=True, help_text="The latest progress event.")
    metrics = models.JSONField(default=dict, blank=True, help_text="Final validation and test metrics.")
    log = models.TextField(blank=True)
    checkpoint_dir = models.CharField(max_length=500, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    train_seconds = models.FloatField(null=True, blank=True, help_text="Training wall time over every attempt.")
    heartbeat_at = models.DateTimeField(null=True, blank=True, help_text="Last sign of life of the worker training it.")
    worker = models.CharField(max_length=200, blank=True, help_text="host:pid of the worker process of the current attempt.")
    recoveries = models.PositiveSmallIntegerField(
        default=0, help_text="Times the scheduler re-enqueued it after its worker died (bounded by MLOPS_RUN_MAX_RECOVERIES)."
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["heartbeat_at"], name="running_run_heartbeat", condition=Q(status="running"))]

    def __str__(self):
        return f"run {self.pk} ({self.model_name}, {self.status})"

    @property
    def is_finished(self) -> bool:
        return self.status in self.FINISHED


class TrainingMetric(models.Model):
    """One progress point of a run (every few steps and every epoch): the data behind the live curves."""

    run = models.ForeignKey(TrainingRun, on_delete=models.CASCADE, related_name="metric_points")
    event = models.CharField(max_length=8)  # "step" or "epoch"
    epoch = models.PositiveIntegerField()
    step = models.PositiveIntegerField()
    loss = models.FloatField(null=True)
    lr = models.FloatField(null=True)
    val_seq_acc = models.FloatField(null=True)
    val_char_acc = models.FloatField(null=True)
    images_per_s = models.FloatField(null=True)
    elapsed_s = models.FloatField(null=True)

    class Meta:
        ordering = ["step", "id"]
        indexes = [models.Index(fields=["run", "step"], name="training_metric_by_step")]
        # A resumed or redelivered attempt replays steps: one point per (event, step), never two.
        constraints = [models.UniqueConstraint(fields=["run", "event", "step"], name="one_metric_point_per_step")]


class ModelVersion(models.Model):
    """A trained model in the registry. At most one version per name is promoted (the database enforces it)."""

    name = models.CharField(max_length=100)
    version = models.PositiveIntegerField()
    training_run = models.OneToOneField(TrainingRun, on_delete=models.PROTECT, related_name="model_version")
    snapshot = models.ForeignKey(DatasetSnapshot, on_delete=models.PROTECT, related_name="model_versions")
    artifact_path = models.CharField(max_length=500, help_text="Directory with model.safetensors and ocr_model.json.")
    metrics = models.JSONField(default=dict)
    backbone = models.CharField(max_length=100)
    charset = models.CharField(max_length=500)
    max_len = models.PositiveSmallIntegerField()
    promoted = models.BooleanField(default=False)
    promoted_at = models.DateTimeField(null=True, blank=True)
    retired_at = models.DateTimeField(null=True, blank=True, help_text="Set when the rights it was trained under were revoked.")
    retired_reason = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["name", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["name", "version"], name="model_version_unique"),
            models.UniqueConstraint(fields=["name"], condition=Q(promoted=True), name="one_promoted_version_per_model"),
            models.CheckConstraint(condition=Q(retired_at__isnull=True) | Q(promoted=False), name="retired_version_not_promoted"),
        ]

    def __str__(self):
        return f"{self.name} v{self.version}"

    @property
    def is_retired(self) -> bool:
        return self.retired_at is not None


class ServingRestriction(Immutable):
    """A client withdrew `publish_trained_models`: the version may no longer serve any other organization."""

    model_version = models.ForeignKey(ModelVersion, on_delete=models.PROTECT, related_name="restrictions")
    organization = models.ForeignKey(ClientOrganization, on_delete=models.PROTECT, related_name="+")
    dua = models.ForeignKey("governance.DataUseAgreement", on_delete=models.PROTECT, related_name="+")
    reason = models.CharField(max_length=300)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["model_version", "organization"], name="one_restriction_per_org")]


class PrefillServed(models.Model):
    """The suggestion the labeling screen was given for an assignment: `edited` is computed against this, not the client's word."""

    assignment = models.OneToOneField("marketplace.Assignment", on_delete=models.CASCADE, related_name="+")
    model_version = models.ForeignKey(ModelVersion, on_delete=models.PROTECT, related_name="+")
    text = models.CharField(max_length=1000)
    confidence = models.FloatField()
    created_at = models.DateTimeField(default=timezone.now)


class ModelPromotion(Immutable):
    """Append-only history of promotions and rollbacks (who, when, from which version)."""

    class Action(models.TextChoices):
        PROMOTE = "promote", "Promoted"
        ROLLBACK = "rollback", "Rolled back to"
        RETIRE = "retire", "Retired"

    name = models.CharField(max_length=100)
    model_version = models.ForeignKey(ModelVersion, on_delete=models.PROTECT, related_name="promotions")
    previous = models.ForeignKey(ModelVersion, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    action = models.CharField(max_length=10, choices=Action.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    gate = models.JSONField(default=dict, blank=True, help_text="The quality gate's verdict when it was promoted.")
    override_reason = models.CharField(max_length=500, blank=True, help_text="Why a steward promoted it past a failed gate.")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]


class PredictionUsage(models.Model):
    """Predictions served per client, model version and day, with the price terms captured at first use.

    Billed once the day is over (mlops.services.dividends); `ledger_transaction`
    is set when it was.
    """

    organization = models.ForeignKey(ClientOrganization, on_delete=models.PROTECT, related_name="model_usage")
    model_version = models.ForeignKey(ModelVersion, on_delete=models.PROTECT, related_name="usage")
    day = models.DateField()
    predictions = models.PositiveIntegerField(default=0)
    unit_price = models.DecimalField(max_digits=12, decimal_places=4, help_text="Price per prediction (0: not billed).")
    revenue_share_pct = models.DecimalField(max_digits=5, decimal_places=2)
    currency = models.CharField(max_length=3, default="USD")
    ledger_transaction = models.OneToOneField(
        "marketplace.LedgerTransaction", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    billed_at = models.DateTimeField(null=True, blank=True)
    billing_error = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-day", "id"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "model_version", "day"], name="one_usage_row_per_day"),
        ]
        indexes = [models.Index(fields=["day"], name="usage_unbilled", condition=Q(billed_at__isnull=True))]

    def __str__(self):
        return f"{self.organization} · {self.model_version} · {self.day}: {self.predictions}"


class ContributorCredit(models.Model):
    """A member's choice to be credited by name on model cards and datasheets (default: a pseudonym)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="model_credit")
    credit_by_name = models.BooleanField(default=False)
    updated_at = models.DateTimeField(auto_now=True)
