"""Admin for mlops: snapshots and history read-only; training, promotion and cancellation through actions that call services."""

from django.contrib import admin, messages

from coop.admin_site import ReadOnlyAdmin
from coop.errors import ApplicationError

from .models import (
    ContributorCredit,
    DatasetContributor,
    DatasetSnapshot,
    ModelPromotion,
    ModelVersion,
    PredictionUsage,
    PrefillServed,
    ServingRestriction,
    SnapshotExclusion,
    SnapshotItem,
    SnapshotSource,
    TrainingMetric,
    TrainingRun,
)
from .services import registry, training


def _report(modeladmin, request, done: list[str], errors: list[str]) -> None:
    if done:
        modeladmin.message_user(request, "; ".join(done), messages.SUCCESS)
    for error in errors:
        modeladmin.message_user(request, error, messages.ERROR)


class _ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class SourceInline(_ReadOnlyInline):
    model = SnapshotSource
    fields = readonly_fields = ["project", "organization", "dua", "item_count", "revenue_share_pct", "publish_trained_models"]


class ContributorInline(_ReadOnlyInline):
    model = DatasetContributor
    fields = readonly_fields = ["worker", "label_count"]


@admin.register(DatasetSnapshot)
class DatasetSnapshotAdmin(ReadOnlyAdmin):
    list_display = ["id", "name", "item_count", "train_count", "val_count", "test_count", "excluded_count", "charset", "created_at"]
    search_fields = ["name"]
    inlines = [SourceInline, ContributorInline]
    actions = ["train_on_snapshot"]

    @admin.action(description="Train a model on the selected snapshots (default settings, model named after the snapshot)")
    def train_on_snapshot(self, request, queryset):
        done, errors = [], []
        for snapshot in queryset:
            try:
                run = training.training_run_start(actor=request.user, model_name=snapshot.name, snapshot=snapshot)
                done.append(f"run {run.pk} queued for snapshot {snapshot.pk}")
            except ApplicationError as error:
                errors.append(f"snapshot {snapshot.pk}: {error.message}")
        _report(self, request, done, errors)

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(SnapshotItem)
class SnapshotItemAdmin(ReadOnlyAdmin):
    list_display = ["id", "snapshot", "label", "project", "dua", "split", "text", "workers"]
    list_filter = ["split"]
    search_fields = ["text"]
    raw_id_fields = ["snapshot", "label", "project", "dua"]


@admin.register(SnapshotExclusion)
class SnapshotExclusionAdmin(ReadOnlyAdmin):
    list_display = ["id", "snapshot", "label", "project", "reason", "detail"]
    list_filter = ["reason"]
    raw_id_fields = ["snapshot", "label", "project"]


@admin.register(TrainingRun)
class TrainingRunAdmin(ReadOnlyAdmin):
    list_display = ["id", "model_name", "status", "device", "attempts", "snapshot", "created_at", "finished_at"]
    list_filter = ["status", "model_name"]
    readonly_fields = ["log"]
    actions = ["cancel_runs", "train_again"]

    @admin.action(description="Cancel the selected runs")
    def cancel_runs(self, request, queryset):
        done, errors = [], []
        for run in queryset:
            try:
                training.training_run_cancel(actor=request.user, run=run)
                done.append(f"run {run.pk}: cancel requested")
            except ApplicationError as error:
                errors.append(f"run {run.pk}: {error.message}")
        _report(self, request, done, errors)

    @admin.action(description="Start a new run with the same snapshot and settings")
    def train_again(self, request, queryset):
        done, errors = [], []
        for run in queryset:
            config = {k: v for k, v in run.config.items() if k not in training.SNAPSHOT_FIELDS}
            try:
                new = training.training_run_start(actor=request.user, model_name=run.model_name, snapshot=run.snapshot, config=config)
                done.append(f"run {new.pk} queued")
            except ApplicationError as error:
                errors.append(f"run {run.pk}: {error.message}")
        _report(self, request, done, errors)


@admin.register(ModelVersion)
class ModelVersionAdmin(ReadOnlyAdmin):
    list_display = ["id", "name", "version", "promoted", "backbone", "snapshot", "training_run", "created_at"]
    list_filter = ["name", "promoted"]
    actions = ["promote"]

    @admin.action(description="Promote the selected version (one per model name)")
    def promote(self, request, queryset):
        done, errors = [], []
        for version in queryset:
            try:
                registry.model_version_promote(actor=request.user, model_version=version)
                done.append(f"{version} promoted")
            except ApplicationError as error:
                errors.append(f"{version}: {error.message}")
        _report(self, request, done, errors)


@admin.register(ModelPromotion)
class ModelPromotionAdmin(ReadOnlyAdmin):
    list_display = ["id", "name", "action", "model_version", "previous", "actor", "created_at"]


@admin.register(PredictionUsage)
class PredictionUsageAdmin(ReadOnlyAdmin):
    list_display = ["id", "organization", "model_version", "day", "predictions", "unit_price", "revenue_share_pct", "billed_at", "billing_error"]
    list_filter = ["day"]


@admin.register(SnapshotSource)
class SnapshotSourceAdmin(ReadOnlyAdmin):
    list_display = ["id", "snapshot", "project", "organization", "dua", "item_count", "revenue_share_pct", "publish_trained_models"]
    search_fields = ["organization__name", "project__title"]


@admin.register(DatasetContributor)
class DatasetContributorAdmin(ReadOnlyAdmin):
    list_display = ["id", "snapshot", "worker", "label_count"]
    search_fields = ["worker__email"]


@admin.register(TrainingMetric)
class TrainingMetricAdmin(ReadOnlyAdmin):
    list_display = ["id", "run", "event", "epoch", "step", "loss", "val_seq_acc", "val_char_acc", "images_per_s"]
    list_filter = ["event"]


@admin.register(ServingRestriction)
class ServingRestrictionAdmin(ReadOnlyAdmin):
    list_display = ["id", "model_version", "organization", "dua", "reason", "created_at"]


@admin.register(PrefillServed)
class PrefillServedAdmin(ReadOnlyAdmin):
    list_display = ["id", "assignment", "model_version", "confidence", "created_at"]


@admin.register(ContributorCredit)
class ContributorCreditAdmin(ReadOnlyAdmin):
    list_display = ["id", "user", "credit_by_name", "updated_at"]
