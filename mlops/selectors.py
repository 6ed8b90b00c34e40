"""Reads of the mlops app: runs and their curves, snapshots and exclusions, the registry, members' contributions."""

from __future__ import annotations

from django.db.models import Count, Exists, OuterRef, QuerySet

from coop.errors import NotFound
from coop.models import ClientOrganization, User
from marketplace.ledger.models import AccountKind, LedgerEntry, TransactionKind

from .models import (
    DatasetContributor,
    DatasetSnapshot,
    ExclusionReason,
    ModelPromotion,
    ModelVersion,
    ServingRestriction,
    SnapshotExclusion,
    SnapshotSource,
    TrainingMetric,
    TrainingRun,
)


def run_list() -> QuerySet[TrainingRun]:
    return TrainingRun.objects.select_related("snapshot", "created_by", "model_version").order_by("-created_at", "-id")


def run_get(run_id: int) -> TrainingRun:
    run = run_list().filter(pk=run_id).first()
    if run is None:
        raise NotFound("No such training run.")
    return run


def run_curve(run: TrainingRun) -> dict:
    """The points behind a run's curves: loss per logged step, accuracies per epoch."""
    steps, epochs = [], []
    fields = ("event", "epoch", "step", "loss", "val_seq_acc", "val_char_acc", "images_per_s")
    for event, epoch, step, loss, seq, char, ips in TrainingMetric.objects.filter(run=run).order_by("step", "id").values_list(*fields):
        if event == "epoch":
            epochs.append({"epoch": epoch, "step": step, "loss": loss, "val_seq_acc": seq, "val_char_acc": char, "images_per_s": ips})
        else:
            steps.append({"epoch": epoch, "step": step, "loss": loss, "images_per_s": ips})
    return {"steps": steps, "epochs": epochs}


def snapshot_list() -> QuerySet[DatasetSnapshot]:
    return DatasetSnapshot.objects.select_related("created_by").order_by("-created_at", "-id")


def snapshot_get(snapshot_id: int) -> DatasetSnapshot:
    snapshot = snapshot_list().filter(pk=snapshot_id).first()
    if snapshot is None:
        raise NotFound("No such snapshot.")
    return snapshot


def exclusion_summary(snapshot: DatasetSnapshot) -> list[dict]:
    labels = dict(ExclusionReason.choices)
    rows = SnapshotExclusion.objects.filter(snapshot=snapshot).values("reason").annotate(n=Count("id")).order_by("-n", "reason")
    return [{"reason": r["reason"], "label": labels.get(r["reason"], r["reason"]), "count": r["n"]} for r in rows]


def exclusions(snapshot: DatasetSnapshot) -> QuerySet[SnapshotExclusion]:
    return SnapshotExclusion.objects.filter(snapshot=snapshot).select_related("project").order_by("id")


def model_versions() -> QuerySet[ModelVersion]:
    return ModelVersion.objects.select_related("training_run", "snapshot").order_by("name", "-version")


def model_version_get(version_id: int) -> ModelVersion:
    version = model_versions().filter(pk=version_id).first()
    if version is None:
        raise NotFound("No such model version.")
    return version


def contributors_of(version: ModelVersion) -> QuerySet[DatasetContributor]:
    return DatasetContributor.objects.filter(snapshot_id=version.snapshot_id).select_related("worker__membership")


def promotion_history(limit: int = 20) -> QuerySet[ModelPromotion]:
    return ModelPromotion.objects.select_related("model_version", "previous", "actor").order_by("-created_at", "-id")[:limit]


def models_of_worker(user: User) -> list[dict]:
    """The model versions the member's labels helped train, with how many of their labels each used."""
    counts = dict(DatasetContributor.objects.filter(worker=user).values_list("snapshot_id", "label_count"))
    versions = ModelVersion.objects.filter(snapshot_id__in=list(counts)).select_related("snapshot").order_by("-created_at")
    return [{"version": v, "labels": counts[v.snapshot_id]} for v in versions]


def dividends_of_worker(user: User, limit: int = 100) -> QuerySet[LedgerEntry]:
    """Data-dividend credits to the member's earnings, newest first (amounts shown positive)."""
    return (
        LedgerEntry.objects.filter(
            account__user=user, account__kind=AccountKind.WORKER_EARNINGS, transaction__kind=TransactionKind.DIVIDEND
        )
        .select_related("transaction")
        .order_by("-transaction__created_at", "-id")[:limit]
    )


def client_usage(organization, *, since=None) -> list[dict]:
    """Per day and model version: predictions, amount billed (or owed), and the data dividend it funded for the workers."""
    from decimal import Decimal

    from .dividend_shares import usage_amounts
    from .models import PredictionUsage

    rows = PredictionUsage.objects.filter(organization=organization).select_related("model_version").order_by("-day", "model_version_id")
    if since is not None:
        rows = rows.filter(day__gte=since)
    out = []
    for usage in rows[:1000]:
        amount, share, _fee = usage_amounts(usage) if usage.unit_price > 0 else (Decimal(0), Decimal(0), Decimal(0))
        out.append({
            "day": usage.day, "model": usage.model_version.name, "version": usage.model_version.version,
            "model_version_id": usage.model_version_id, "predictions": usage.predictions, "unit_price": usage.unit_price,
            "currency": usage.currency, "amount": amount, "billed": usage.billed_at is not None,
            "dividends_funded": share if usage.billed_at is not None else Decimal(0),
        })
    return out


def work_used_by_models(user: User) -> list[dict]:
    """For a member's records: each snapshot that included their labels, and the model versions trained on it."""
    rows = DatasetContributor.objects.filter(worker=user).select_related("snapshot").order_by("-snapshot__created_at")
    versions: dict[int, list] = {}
    for version in ModelVersion.objects.filter(snapshot_id__in=[r.snapshot_id for r in rows]).order_by("name", "version"):
        versions.setdefault(version.snapshot_id, []).append(version)
    return [{"snapshot": r.snapshot, "labels": r.label_count, "versions": versions.get(r.snapshot_id, [])} for r in rows]


def entitled_versions(organization: ClientOrganization):
    """Model versions `organization` may use: trained on a snapshot with its data, not retired, and not kept from it
    by another data owner (publish_trained_models off, or a serving restriction; see mlops/services/inference.py)."""
    own = SnapshotSource.objects.filter(snapshot=OuterRef("snapshot"), organization=organization)
    foreign_unshared = SnapshotSource.objects.filter(snapshot=OuterRef("snapshot"), publish_trained_models=False).exclude(
        organization=organization
    )
    return ModelVersion.objects.filter(Exists(own), retired_at__isnull=True).exclude(Exists(foreign_unshared)).exclude(
        Exists(_restricted_away(organization))
    )


def _restricted_away(organization: ClientOrganization):
    """Restrictions (another organization withdrew publish_trained_models) that keep a version from `organization`."""
    return ServingRestriction.objects.filter(model_version=OuterRef("pk")).exclude(organization=organization)
