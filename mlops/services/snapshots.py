"""Dataset snapshots: which accepted OCR labels a model may learn from, split deterministically, with reasons for the rest.

Rules (the same for every snapshot):

- Candidates are the accepted labels of OCR projects (all of them, or the
  projects given), in label-id order.
- A label is included only if its project was published under a data-use
  agreement that is in force (active; a superseded version's terms pass to the
  active version of the same agreement) and grants `train_models`, the client
  has not attested deletion, the task has an image that exists in storage, and
  its text is non-empty, at most `max_len` characters and within `charset`
  (when one is given). Every other label gets a SnapshotExclusion row naming the
  first rule it broke.
- The text is the label as delivered to the client; for a case-insensitive
  project whose text does not fit the charset as typed, the upper- or
  lower-cased text is used when that fits (CAPTCHA charsets are usually one case).
- The split depends only on (seed, the task's external id): sha256 → a number
  in [0, 1); below test_fraction → test, below test+val → validation, else
  training. A label keeps its split in every later snapshot with the same seed,
  and the same client item relabelled in a relaunched project lands in the same
  split, so it cannot leak from training into a test set.
- Contributors are the workers of the label's agreeing answers; each included
  label counts once for each of them.

Memory stays bounded: labels are read in keyset-paginated batches and items
written with bulk_create per batch; only per-worker and per-project counters
are kept in memory.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal

from django.core.files.storage import default_storage
from django.db import transaction

from coop.errors import ApplicationError
from coop.models import User
from coop.validation import decimal_or_error, require_steward
from governance.models import AgreementStatus, DataUseAgreement
from marketplace.models import AcceptedLabel, Project, TaskType
from mlops.error_codes import MlopsErrorCode

from ..models import (
    DatasetContributor,
    DatasetSnapshot,
    ExclusionReason,
    SnapshotExclusion,
    SnapshotItem,
    SnapshotSource,
    Split,
)

BATCH_SIZE = 2000
DEFAULT_MAX_LEN = 16
R = ExclusionReason


def split_for(item_key: str, seed: int, val_fraction: Decimal, test_fraction: Decimal) -> str:
    """The split of an item: a hash of (seed, its task's external id) mapped to [0, 1), compared with the fractions."""
    digest = hashlib.sha256(f"{seed}:{item_key}".encode()).digest()
    point = Decimal(int.from_bytes(digest[:8], "big")) / Decimal(2**64)
    if point < test_fraction:
        return Split.TEST
    if point < test_fraction + val_fraction:
        return Split.VAL
    return Split.TRAIN


@dataclass
class _Terms:
    dua: DataUseAgreement | None
    reason: str | None
    detail: str = ""


def _effective_terms(dua_id: int | None, cache: dict) -> _Terms:
    """The agreement whose terms govern data labelled under `dua_id`, or why none does (once per agreement)."""
    if dua_id in cache:
        return cache[dua_id]
    if dua_id is None:
        terms = _Terms(None, R.NO_DUA)
    else:
        dua = DataUseAgreement.objects.get(pk=dua_id)
        if dua.status == AgreementStatus.SUPERSEDED:
            # The obligations of a superseded version pass to the version that replaced it.
            successor = (
                DataUseAgreement.objects.filter(family=dua.family, status=AgreementStatus.ACTIVE)
                .order_by("-version")
                .first()
            )
            dua = successor or dua
        if dua.deletion_attested_at is not None:
            terms = _Terms(dua, R.DELETION_ATTESTED, f"DUA v{dua.version}: deletion attested")
        elif dua.status in (AgreementStatus.EXPIRED, AgreementStatus.TERMINATED):
            terms = _Terms(dua, R.DUA_ENDED, f"DUA v{dua.version} is {dua.status}")
        elif dua.status != AgreementStatus.ACTIVE:
            terms = _Terms(dua, R.DUA_NOT_IN_FORCE, f"DUA v{dua.version} is {dua.status}")
        elif not dua.train_models:
            terms = _Terms(dua, R.DUA_NO_TRAINING, f"DUA v{dua.version} does not grant train_models")
        else:
            terms = _Terms(dua, None)
    cache[dua_id] = terms
    return terms


def _fit_text(text: str, *, case_sensitive: bool, charset: str | None) -> str:
    text = text.strip()
    if charset and not case_sensitive and not set(text) <= set(charset):
        for variant in (text.upper(), text.lower()):
            if set(variant) <= set(charset):
                return variant
    return text


def _fraction(value, field: str) -> Decimal:
    number = decimal_or_error(value, field=field)
    if not (Decimal(0) <= number < Decimal(1)):
        raise ApplicationError(f"'{field}' must be at least 0 and below 1.", fields={field: ["Between 0 and 1."]})
    return number.quantize(Decimal("0.001"))


@transaction.atomic
def snapshot_create(
    *,
    actor: User | None,
    name: str,
    projects: list[Project] | None = None,
    charset: str | None = None,
    max_len: int = DEFAULT_MAX_LEN,
    seed: int = 0,
    val_fraction=Decimal("0.1"),
    test_fraction=Decimal("0.1"),
) -> DatasetSnapshot:
    """Snapshot the accepted labels of OCR projects (all, or `projects`). Stewards only (None: the co-op's own job).

    Raises ApplicationError "empty_snapshot" when no label qualifies: a model
    cannot be trained on nothing. See the module docstring for the rules.
    """
    require_steward(actor, "Only stewards create dataset snapshots.", system=True)
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise ApplicationError("Give the snapshot a name of 1 to 100 characters.", fields={"name": ["Required."]})
    val_fraction, test_fraction = _fraction(val_fraction, "val_fraction"), _fraction(test_fraction, "test_fraction")
    if val_fraction + test_fraction >= 1:
        raise ApplicationError("Validation and test fractions leave nothing to train on.", fields={"val_fraction": ["Too large."]})
    if charset is not None:
        charset = "".join(dict.fromkeys(charset))  # distinct, order kept
        if not charset or len(charset) > 500 or any(c.isspace() for c in charset):
            raise ApplicationError("The charset is 1 to 500 non-blank characters.", fields={"charset": ["Invalid."]})
    if not isinstance(max_len, int) or not 1 <= max_len <= 200:
        raise ApplicationError("'max_len' must be between 1 and 200.", fields={"max_len": ["Between 1 and 200."]})

    project_qs = Project.objects.filter(task_type=TaskType.OCR)
    if projects is not None:
        ids = [p.pk for p in projects]
        project_qs = project_qs.filter(pk__in=ids)
        if project_qs.count() != len(set(ids)):
            raise ApplicationError("Snapshots are made from OCR projects only.", code=MlopsErrorCode.NOT_OCR, fields={"projects": ["OCR only."]})
    project_rows = {p.pk: p for p in project_qs.only("pk", "organization_id", "dua_id", "case_sensitive")}

    snapshot = DatasetSnapshot(
        name=name,
        seed=seed,
        val_fraction=val_fraction,
        test_fraction=test_fraction,
        charset="",
        allowed_charset=charset or "",
        max_len=0,
        max_len_allowed=max_len,
        created_by=actor,
    )
    snapshot.save()
    snapshot.projects.set(list(project_rows))

    terms_cache: dict = {}
    split_counts: Counter = Counter()
    workers: Counter = Counter()
    sources: dict[tuple[int, int], int] = Counter()
    max_label: dict[int, int] = {}
    chars: set[str] = set()
    longest = 0
    excluded = 0
    through = AcceptedLabel.answers.through
    last_id = 0
    base = AcceptedLabel.objects.filter(project_id__in=list(project_rows)).order_by("pk")
    while True:
        batch = list(base.filter(pk__gt=last_id).values_list("pk", "project_id", "value", "label", "task__image", "task__external_id")[:BATCH_SIZE])
        if not batch:
            break
        last_id = batch[-1][0]
        label_ids = [row[0] for row in batch]
        label_workers: dict[int, list[int]] = {}
        for label_id, worker_id in through.objects.filter(acceptedlabel_id__in=label_ids).values_list(
            "acceptedlabel_id", "answer__worker_id"
        ):
            label_workers.setdefault(label_id, []).append(worker_id)
        items, exclusions = [], []
        for label_id, project_id, value, label, image, external_id in batch:
            project = project_rows[project_id]
            max_label[project_id] = label_id
            terms = _effective_terms(project.dua_id, terms_cache)
            raw = label.get("text", value) if isinstance(label, dict) else value
            text = _fit_text(str(raw or ""), case_sensitive=project.case_sensitive, charset=charset)
            reason, detail = terms.reason, terms.detail
            if reason is None:
                if not image:
                    reason = R.NO_IMAGE
                elif not default_storage.exists(image):
                    reason, detail = R.IMAGE_MISSING, image[:200]
                elif not text:
                    reason = R.EMPTY_TEXT
                elif len(text) > max_len:
                    reason, detail = R.TEXT_TOO_LONG, f"{len(text)} > {max_len}"
                elif charset and not set(text) <= set(charset):
                    reason, detail = R.TEXT_OUTSIDE_CHARSET, "".join(sorted(set(text) - set(charset)))[:200]
            if reason is not None:
                excluded += 1
                exclusions.append(SnapshotExclusion(snapshot=snapshot, label_id=label_id, project_id=project_id, reason=reason, detail=detail))
                continue
            split = split_for(external_id, seed, val_fraction, test_fraction)
            worker_ids = sorted(set(label_workers.get(label_id, [])))
            items.append(
                SnapshotItem(
                    snapshot=snapshot, label_id=label_id, project_id=project_id, dua_id=terms.dua.pk, image=image,
                    text=text, split=split, workers=worker_ids,
                )
            )
            split_counts[split] += 1
            workers.update(worker_ids)
            sources[(project_id, terms.dua.pk)] += 1
            chars.update(text)
            longest = max(longest, len(text))
        SnapshotItem.objects.bulk_create(items)
        SnapshotExclusion.objects.bulk_create(exclusions)

    total = sum(split_counts.values())
    if total == 0:
        raise ApplicationError(
            f"No accepted OCR label qualifies for training ({excluded} excluded); see the exclusion rules.",
            code=MlopsErrorCode.EMPTY_SNAPSHOT,
        )
    duas = {t.dua.pk: t.dua for t in terms_cache.values() if t.dua is not None}
    SnapshotSource.objects.bulk_create(
        SnapshotSource(
            snapshot=snapshot, project_id=project_id, organization_id=project_rows[project_id].organization_id, dua_id=dua_id,
            item_count=count, max_label_id=max_label[project_id], revenue_share_pct=duas[dua_id].revenue_share_pct,
            publish_trained_models=duas[dua_id].publish_trained_models,
        )
        for (project_id, dua_id), count in sorted(sources.items())
    )
    DatasetContributor.objects.bulk_create(
        DatasetContributor(snapshot=snapshot, worker_id=worker_id, label_count=count) for worker_id, count in sorted(workers.items())
    )
    # The one write to a fresh snapshot: its totals, known only now. (Immutable.save refuses updates, so use the queryset.)
    DatasetSnapshot.objects.filter(pk=snapshot.pk).update(
        charset="".join(sorted(chars)), max_len=longest, item_count=total, train_count=split_counts[Split.TRAIN],
        val_count=split_counts[Split.VAL], test_count=split_counts[Split.TEST], excluded_count=excluded,
    )
    return DatasetSnapshot.objects.get(pk=snapshot.pk)
