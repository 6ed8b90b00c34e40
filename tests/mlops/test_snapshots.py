"""Dataset snapshots: DUA filtering with reasons, deterministic splits, provenance, immutability, bounded queries."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.files.storage import default_storage
from django.db import connection
from django.test.utils import CaptureQueriesContext

from coop.errors import ApplicationError, Conflict, Forbidden
from governance.models import DataUseAgreement
from marketplace.models import AcceptedLabel
from mlops.models import DatasetContributor, SnapshotExclusion, SnapshotItem, SnapshotSource
from mlops.services import snapshots
from mlops.services.snapshots import snapshot_create, split_for
from tests import factories

from .conftest import label_project, labelled_project, make_ocr_project

pytestmark = pytest.mark.django_db


def test_only_labels_whose_dua_permits_training_are_included_and_every_exclusion_has_a_reason(steward):
    allowed_org = factories.make_organization("Trains Models Inc")
    forbidden_org = factories.make_organization("No Training Ltd")
    ended_org = factories.make_organization("Ended Agreement Co")
    workers = [factories.make_member(), factories.make_member()]
    allowed = labelled_project(allowed_org, 6, workers=workers, overlap=2, max_overlap=2, agreement_target="0.66")
    forbidden = labelled_project(forbidden_org, 3, dua_terms={"train_models": False, "permitted_purposes": ["evaluation"]})
    ended = labelled_project(ended_org, 2)
    DataUseAgreement.objects.filter(pk=ended.dua_id).update(status="terminated")

    # Labels that break the data rules: one image gone from storage, one text outside the charset, one too long.
    labels = list(AcceptedLabel.objects.filter(project=allowed).select_related("task").order_by("pk"))
    default_storage.delete(labels[0].task.image.name)
    AcceptedLabel.objects.filter(pk=labels[1].pk).update(label={"text": "12a4"})
    AcceptedLabel.objects.filter(pk=labels[2].pk).update(label={"text": "123456"})

    snapshot = snapshot_create(actor=steward, name="captcha", charset="0123456789", max_len=5)

    reasons = dict(SnapshotExclusion.objects.filter(snapshot=snapshot).values_list("label_id", "reason"))
    assert reasons[labels[0].pk] == "image_missing"
    assert reasons[labels[1].pk] == "text_outside_charset"
    assert reasons[labels[2].pk] == "text_too_long"
    assert {reasons[label.pk] for label in AcceptedLabel.objects.filter(project=forbidden)} == {"dua_no_training"}
    assert {reasons[label.pk] for label in AcceptedLabel.objects.filter(project=ended)} == {"dua_ended"}
    assert snapshot.excluded_count == 3 + 3 + 2 and len(reasons) == 8

    items = list(SnapshotItem.objects.filter(snapshot=snapshot))
    assert {item.label_id for item in items} == {label.pk for label in labels[3:]}
    assert snapshot.item_count == 3 == snapshot.train_count + snapshot.val_count + snapshot.test_count
    for item in items:
        label = AcceptedLabel.objects.get(pk=item.label_id)
        assert item.text == label.label["text"] and item.image == label.task.image.name
        assert item.dua_id == allowed.dua_id and item.project_id == allowed.pk
        assert sorted(item.workers) == sorted(w.pk for w in workers)  # both agreeing answers' workers
    assert dict(DatasetContributor.objects.filter(snapshot=snapshot).values_list("worker_id", "label_count")) == {
        workers[0].pk: 3, workers[1].pk: 3
    }
    source = SnapshotSource.objects.get(snapshot=snapshot)
    assert (source.organization_id, source.item_count, source.max_label_id) == (allowed_org.pk, 3, labels[-1].pk)
    assert set(snapshot.charset) <= set("0123456789") and snapshot.max_len == 4


def test_a_superseded_agreement_follows_its_active_amendment(steward):
    organization = factories.make_organization()
    project = labelled_project(organization, 2)
    old = DataUseAgreement.objects.get(pk=project.dua_id)
    DataUseAgreement.objects.filter(pk=old.pk).update(status="superseded")
    amended = DataUseAgreement.objects.create(
        contract=old.contract, family=old.family, version=2, previous=old, status="active", retention_days=30, train_models=False
    )
    with pytest.raises(ApplicationError) as error:
        snapshot_create(actor=steward, name="amended")
    assert error.value.code == "empty_snapshot"
    DataUseAgreement.objects.filter(pk=amended.pk).update(train_models=True)
    assert snapshot_create(actor=steward, name="amended").item_count == 2


def test_split_is_a_deterministic_function_of_seed_and_the_item(steward):
    organization = factories.make_organization()
    labelled_project(organization, 12)
    first = snapshot_create(actor=steward, name="a", seed=7, val_fraction="0.25", test_fraction="0.25")
    second = snapshot_create(actor=steward, name="b", seed=7, val_fraction="0.25", test_fraction="0.25")
    splits = lambda s: dict(s.items.values_list("label__task__external_id", "split"))  # noqa: E731
    assert splits(first) == splits(second)
    assert all(split == split_for(item, 7, Decimal("0.25"), Decimal("0.25")) for item, split in splits(first).items())
    # Over many items the fractions hold, and another seed gives another split.
    sample = [split_for(f"img-{i}", 1, Decimal("0.1"), Decimal("0.2")) for i in range(5000)]
    assert 0.17 < sample.count("test") / 5000 < 0.23 and 0.07 < sample.count("val") / 5000 < 0.13
    assert sample != [split_for(f"img-{i}", 2, Decimal("0.1"), Decimal("0.2")) for i in range(5000)]


def test_case_insensitive_text_is_fitted_to_the_charset(steward):
    organization = factories.make_organization()
    project = make_ocr_project(organization, ["AB12"])
    label_project(project, [factories.make_member()], {"cap-0": "ab12"})
    snapshot = snapshot_create(actor=steward, name="letters", charset="ABCD0123456789")
    assert list(snapshot.items.values_list("text", flat=True)) == ["AB12"]


def test_snapshots_are_immutable_and_only_stewards_make_them(steward, member):
    labelled_project(factories.make_organization(), 2)
    with pytest.raises(Forbidden):
        snapshot_create(actor=member, name="nope")
    snapshot = snapshot_create(actor=steward, name="fixed")
    item = snapshot.items.first()
    item.text = "9999"
    with pytest.raises(Conflict):
        item.save()
    with pytest.raises(Conflict):
        snapshot.delete()


def test_creation_reads_and_writes_in_batches_not_per_label(steward, monkeypatch):
    labelled_project(factories.make_organization(), 30)
    monkeypatch.setattr(snapshots, "BATCH_SIZE", 10)
    with CaptureQueriesContext(connection) as queries:
        snapshot = snapshot_create(actor=steward, name="batched", test_fraction=0, val_fraction=0)
    assert snapshot.item_count == 30
    # 3 batches × (labels, workers, items, exclusions) + 1 empty read + a fixed number of setup/summary queries.
    assert len(queries) <= 30, [q["sql"][:80] for q in queries.captured_queries]


def test_fractions_and_names_are_validated(steward):
    labelled_project(factories.make_organization(), 1)
    with pytest.raises(ApplicationError):
        snapshot_create(actor=steward, name="x", val_fraction="0.6", test_fraction="0.5")
    with pytest.raises(ApplicationError):
        snapshot_create(actor=steward, name="")
