"""Revoked rights retire models: what a model may still do when the agreements its labels came under change.

For each (organization, DUA) source of a version's snapshot the terms in force
now are read (a superseded version follows its active amendment, as snapshots
do):

- the agreement no longer grants `train_models`, the client attested
  deletion of the data (any version of the agreement), or the agreement
  **ended**: it expired with its contract's term, or the contract was
  terminated (by a steward or a members' vote), or the active contract's
  term end has passed and governance's hourly job has not yet marked it
  expired: the version is **retired**: unpromoted, never promoted again,
  refused by the predict API (410 `model_retired`) and by model-assisted
  labeling. Retirement is final (new snapshots leave out labels of an
  agreement that ended as well);
- the agreement no longer grants `publish_trained_models`: the version may no
  longer serve any *other* organization (a ServingRestriction; the predict API
  answers them 403 `rights_revoked`); the client itself keeps it.

The rule for a model trained on labels from several agreements: a version is
servable only while *every* agreement its training labels came under still
permits it. One client's agreement ending retires the version for all of its
clients (the others are told why); their own later versions, trained without
those labels, are not touched.

Each change notifies the stewards and the affected clients once (a retired or
restricted version is never retired or restricted again) and is written to the
governance log. Four paths apply the same rules: governance's
`dua_rights_changed` signal (at once, in the transaction that changed the
agreement), the predict API (`rights_enforce`, a direct call before serving a
version, so the guarantee does not depend on the signal or on the clock of a
job), a ten-minute job for agreements that ended (`rights_retire_ended`:
governance sends no signal when an agreement expires or is terminated) and an
hourly sweep of every live version.
"""

from __future__ import annotations

import logging

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from coop.models import Membership, User
from coop.services import notification_send, notification_send_to_organization
from governance.models import AgreementStatus, Contract, DataUseAgreement
from governance.models.agreements import ENDED_STATUSES
from governance.selectors import dua_in_force

from ..models import ModelPromotion, ModelVersion, ServingRestriction, SnapshotSource
from .snapshots import _effective_terms

logger = logging.getLogger(__name__)


def _ended(dua: DataUseAgreement, cache: dict) -> str:
    """'' while the agreement governing labels made under `dua` is in force; else which agreement ended, how and on what date."""
    key = ("ended", dua.pk)
    if key in cache:
        return cache[key]
    governing, ended = dua_in_force(dua), ""
    if governing.status in ENDED_STATUSES:
        how = "expired" if governing.status == AgreementStatus.EXPIRED else "was terminated"
        when = f" on {timezone.localdate(governing.ended_at):%Y-%m-%d}" if governing.ended_at else ""
        why = governing.end_reason.strip().rstrip(".")
        ended = f"({governing}) {how}{when}" + (f": {why}" if why else "")
    elif governing.status == AgreementStatus.ACTIVE:
        # Governance expires agreements hourly; a term that has passed ends the right to serve now, not at the next tick.
        family = Contract.objects.filter(pk=governing.contract_id).values("family")
        contract = Contract.objects.filter(family__in=family, status=AgreementStatus.ACTIVE).only("term_end").first()
        if contract is not None and contract.term_end < timezone.localdate():
            ended = f"({governing}) ended on {contract.term_end:%Y-%m-%d} with its contract's term"
    cache[key] = ended
    return ended


def _verdict(version: ModelVersion, cache: dict) -> tuple[str, list[tuple[SnapshotSource, str]]]:
    """(retire reason or '', [(source, reason) whose publishing right was withdrawn]) under today's agreements."""
    retire, restrict = "", []
    for source in SnapshotSource.objects.filter(snapshot_id=version.snapshot_id).select_related("dua", "organization").order_by("pk"):
        terms = _effective_terms(source.dua_id, cache)
        key = ("deleted", source.dua.family)
        if key not in cache:
            cache[key] = DataUseAgreement.objects.filter(family=source.dua.family, deletion_attested_at__isnull=False).exists()
        if cache[key]:
            retire = retire or f"{source.organization.name} attested deletion of the data it was trained on"
        elif ended := _ended(source.dua, cache):
            retire = retire or f"{source.organization.name}'s data-use agreement {ended}"
        elif terms.reason == "dua_no_training":
            retire = retire or f"{source.organization.name}'s data-use agreement no longer permits training models"
        elif source.publish_trained_models and terms.dua is not None and not terms.dua.publish_trained_models:
            restrict.append((source, f"{source.organization.name}'s data-use agreement no longer lets models trained on its data "
                                     "serve other clients"))
    return retire, restrict


def _stewards():
    return User.objects.filter(membership__is_steward=True, membership__status=Membership.Status.ACTIVE).order_by("pk")


def _notify(version: ModelVersion, *, title: str, body: str, organizations) -> None:
    for steward in _stewards():
        notification_send(user=steward, kind="mlops.model_rights", title=title, body=body, url=f"/mlops/models/{version.pk}/")
    for organization in organizations:
        notification_send_to_organization(organization=organization, kind="mlops.model_rights", title=title, body=body,
                                          url="/client/models/")


def model_version_retire(*, version: ModelVersion, reason: str) -> bool:
    """Retire a version (unpromote it; it is never served again). Idempotent: False when it already was. Locks the name's versions."""
    from governance.services.audit import log_write

    with transaction.atomic():
        list(ModelVersion.objects.select_for_update().filter(name=version.name).order_by("pk").values_list("pk", flat=True))
        locked = ModelVersion.objects.get(pk=version.pk)
        if locked.retired_at is not None:
            return False
        was_promoted = locked.promoted
        ModelVersion.objects.filter(pk=locked.pk).update(retired_at=timezone.now(), retired_reason=reason[:300], promoted=False)
        if was_promoted:
            ModelPromotion.objects.create(name=locked.name, model_version=locked, action=ModelPromotion.Action.RETIRE)
        log_write(actor=None, action="model.retired", obj=locked, summary=f"{locked} retired: {reason}"[:300],
                  data={"was_promoted": was_promoted})
        organizations = {s.organization for s in SnapshotSource.objects.filter(snapshot_id=locked.snapshot_id).select_related("organization")}
        _notify(locked, title=f"Model {locked} retired", organizations=sorted(organizations, key=lambda o: o.pk),
                body=f"{reason}. It is no longer served (the prediction API answers model_retired)"
                     + (" and no version of this model is promoted until a steward promotes or rolls back to another." if was_promoted else "."))
    version.refresh_from_db()
    return True


def serving_restrict(*, version: ModelVersion, source: SnapshotSource, reason: str) -> bool:
    """Stop a version serving organizations other than `source`'s. Idempotent: False when it was already restricted."""
    from governance.services.audit import log_write

    from ..selectors import entitled_versions

    with transaction.atomic():
        if ServingRestriction.objects.filter(model_version=version, organization=source.organization).exists():
            return False
        # Who loses access: every other organization entitled to it before the restriction.
        from coop.models import ClientOrganization

        losing = [org for org in ClientOrganization.objects.exclude(pk=source.organization_id).order_by("pk")
                  if entitled_versions(org).filter(pk=version.pk).exists()]
        ServingRestriction.objects.create(model_version=version, organization=source.organization, dua=source.dua, reason=reason[:300])
        log_write(actor=None, action="model.restricted", obj=version, summary=f"{version} no longer serves other clients: {reason}"[:300])
        _notify(version, title=f"Model {version} no longer serves other clients", organizations=losing,
                body=f"{reason}. Other organizations' predictions with it are refused (rights_revoked).")
    return True


def rights_enforce(version: ModelVersion, cache: dict | None = None) -> ModelVersion:
    """Apply today's agreements to one version (retire or restrict it as needed) and return it fresh."""
    if version.retired_at is not None:
        return version
    retire, restrict = _verdict(version, {} if cache is None else cache)
    if retire:
        model_version_retire(version=version, reason=retire)
    else:
        for source, reason in restrict:
            serving_restrict(version=version, source=source, reason=reason)
    return version


def rights_apply_for_dua(*, dua: DataUseAgreement) -> int:
    """Enforce the current terms on every live version trained on data of `dua`'s agreement (any version of it)."""
    return _enforce_each(
        ModelVersion.objects.filter(retired_at__isnull=True, snapshot__sources__dua__family=dua.family).distinct().order_by("pk")
    )


def rights_retire_ended() -> int:
    """Every ten minutes: retire the live versions trained on labels whose agreement ended (expired or terminated).

    Governance sends no signal when an agreement ends, so this job (with the
    direct call in the predict API) is what retires them. Idempotent: a version
    retired once is skipped, so its notices go out once. Returns the number of
    versions checked.
    """
    today = timezone.localdate()
    ended = DataUseAgreement.objects.filter(status__in=ENDED_STATUSES).values("family")
    lapsed = DataUseAgreement.objects.filter(
        status=AgreementStatus.ACTIVE,
        contract__family__in=Contract.objects.filter(status=AgreementStatus.ACTIVE, term_end__lt=today).values("family"),
    ).values("family")
    return _enforce_each(
        ModelVersion.objects.filter(retired_at__isnull=True)
        .filter(Q(snapshot__sources__dua__family__in=ended) | Q(snapshot__sources__dua__family__in=lapsed))
        .distinct()
        .order_by("pk")
    )


def rights_sweep() -> int:
    """Hourly: every live version against today's agreements (catches anything a signal missed). Returns how many."""
    return _enforce_each(ModelVersion.objects.filter(retired_at__isnull=True).order_by("pk"))


def _enforce_each(versions) -> int:
    """rights_enforce on each of these versions, sharing one cache of agreement reads; returns how many."""
    cache: dict = {}
    count = 0
    for version in versions:
        rights_enforce(version, cache)
        count += 1
    return count


def restricted_for(organization) -> Q:
    """Versions restricted away from `organization` (another organization withdrew publishing)."""
    return Q(restrictions__isnull=False) & ~Q(restrictions__organization=organization)
