"""Data-use agreements: drafting, amendment, ratification, and enforcement (exports, retention, deletion).

The marketplace calls, before handing labelled data to a client:

    dua = selectors.dua_covering(organization=org, task_type="ocr")   # None: no agreement covers it
    dua_log_export(dua=dua, organization=org, purpose="model_training", project_id=p.pk, rows=n)

dua_log_export checks the purpose and the retention period first
(dua_check_export) and raises ApplicationError (403) when the export is not
allowed; nothing is logged then.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from coop.errors import ApplicationError, Conflict, Forbidden
from coop.models import ClientOrganization, User
from coop.services import notification_send_to_organization
from coop.validation import decimal_or_none
from governance.error_codes import GovernanceErrorCode

from .. import selectors
from ..models import AgreementStatus, Contract, DataExportLog, DataUseAgreement, PersonalDataClass, Proposal
from ..rules import PURPOSES
from .agreements import agreement_amend, agreement_propose, locked, require_steward
from .audit import log_write

S = AgreementStatus
FLAGS = (
    "train_models",
    "publish_trained_models",
    "commercial_use_of_outputs",
    "redistribute_data",
    "create_derived_datasets",
    "attribution_required",
    "reidentification_banned",
    "onward_transfer_allowed",
    "training_summary_required",
)
TEXTS = ("attribution_text", "welfare_provisions", "audit_rights", "training_summary")
LISTS = ("prohibited_uses", "sensitive_content_categories", "subcontractors")
FIELDS = (
    "permitted_purposes",
    *LISTS,
    *FLAGS,
    *TEXTS,
    "retention_days",
    "personal_data_class",
    "breach_reporting_hours",
    "revenue_share_pct",
    "signatories",
)
DEFAULTS = {
    "attribution_required": True,
    "reidentification_banned": True,
    "breach_reporting_hours": 72,
    "personal_data_class": "none",
    "revenue_share_pct": Decimal(0),
}


def _text_list(value, field: str, errors: dict, max_len: int = 300) -> list[str]:
    if isinstance(value, str):
        value = [line for line in value.splitlines()]
    if not isinstance(value, (list, tuple)):
        errors[field] = ["A list of short texts."]
        return []
    items = [str(v).strip() for v in value if str(v).strip()]
    if any(len(v) > max_len for v in items):
        errors[field] = [f"Each entry at most {max_len} characters."]
    return items


def _int(value, field: str, low: int, high: int, errors: dict) -> int:
    try:
        number = int(value)
        if not low <= number <= high:
            raise ValueError
        return number
    except (TypeError, ValueError):
        errors[field] = [f"A whole number from {low} to {high}."]
        return low


def _signatories(value, errors: dict) -> list[dict]:
    if not isinstance(value, (list, tuple)):
        errors["signatories"] = ['A list of {"name", "role", "date"}.']
        return []
    clean = []
    for entry in value:
        try:
            name, role = str(entry["name"]).strip(), str(entry["role"]).strip()
            date = dt.date.fromisoformat(str(entry["date"]))
        except (KeyError, TypeError, ValueError):
            errors["signatories"] = ["Each signatory needs a name, a role and a date (YYYY-MM-DD)."]
            return []
        if not name or not role:
            errors["signatories"] = ["Each signatory needs a name and a role."]
            return []
        clean.append({"name": name[:120], "role": role[:120], "date": date.isoformat()})
    return clean


def _clean(data: dict) -> dict:
    """Validate a full set of DUA terms, including the rules that tie them together."""
    errors: dict[str, list[str]] = {}
    clean: dict = {}
    purposes = data.get("permitted_purposes") or []
    if not purposes or not isinstance(purposes, (list, tuple)) or any(p not in PURPOSES for p in purposes):
        errors["permitted_purposes"] = [f"Choose from: {', '.join(PURPOSES)}."]
        purposes = []
    clean["permitted_purposes"] = [p for p in PURPOSES if p in purposes]
    for field in LISTS:
        clean[field] = _text_list(data.get(field) or [], field, errors)
    for field in FLAGS:
        clean[field] = bool(data.get(field, DEFAULTS.get(field, False)))
    for field in TEXTS:
        clean[field] = str(data.get(field) or "").strip()
    clean["retention_days"] = _int(data.get("retention_days"), "retention_days", 0, 3650, errors)
    clean["breach_reporting_hours"] = _int(data.get("breach_reporting_hours", 72), "breach_reporting_hours", 1, 720, errors)
    clean["personal_data_class"] = data.get("personal_data_class") or "none"
    if clean["personal_data_class"] not in PersonalDataClass.values:
        errors["personal_data_class"] = [f"One of: {', '.join(PersonalDataClass.values)}."]
    share = decimal_or_none(data.get("revenue_share_pct", 0))
    if share is None or not 0 <= share <= 100 or share.as_tuple().exponent < -2:
        errors["revenue_share_pct"] = ["A percentage from 0 to 100 with at most 2 decimals."]
    else:
        clean["revenue_share_pct"] = share
    clean["signatories"] = _signatories(data.get("signatories") or [], errors)
    # Rules between terms: a purpose needs the right it depends on; personal data is never re-identified.
    if "model_training" in clean["permitted_purposes"] and not clean["train_models"]:
        errors.setdefault("train_models", []).append("Model training as a purpose needs the right to train models.")
    if "commercial_product" in clean["permitted_purposes"] and not clean["commercial_use_of_outputs"]:
        errors.setdefault("commercial_use_of_outputs", []).append(
            "A commercial product as a purpose needs commercial use of outputs."
        )
    if clean["publish_trained_models"] and not clean["train_models"]:
        errors.setdefault("publish_trained_models", []).append("Publishing trained models needs the right to train them.")
    if clean["personal_data_class"] != PersonalDataClass.NONE and not clean["reidentification_banned"]:
        errors.setdefault("reidentification_banned", []).append("With personal data, re-identification is always banned.")
    if clean["subcontractors"] and not clean["onward_transfer_allowed"]:
        errors.setdefault("subcontractors", []).append("Subcontractors receive data only if onward transfer is allowed.")
    if errors:
        raise ApplicationError("The data-use agreement has errors.", code=GovernanceErrorCode.INVALID_DUA, fields=errors)
    return clean


def _check_fields(changes: dict) -> None:
    unknown = sorted(set(changes) - set(FIELDS))
    if unknown:
        raise ApplicationError(f"Unknown data-use agreement fields: {', '.join(unknown)}.")


@transaction.atomic
def dua_create(*, actor: User | None, contract: Contract, **terms) -> DataUseAgreement:
    """Draft version 1 of the data-use agreement of a contract."""
    require_steward(actor)
    _check_fields(terms)
    if contract.status in (S.EXPIRED, S.TERMINATED, S.SUPERSEDED):
        raise Conflict("This contract is no longer in force.", code=GovernanceErrorCode.CONTRACT_ENDED)
    dua = DataUseAgreement.objects.create(contract=contract, created_by=actor, **_clean(terms))
    log_write(actor=actor, action="agreement.drafted", obj=dua, summary=f"Data-use agreement drafted for “{contract.title}”")
    return dua


def _terms(dua: DataUseAgreement) -> dict:
    return {field: getattr(dua, field) for field in FIELDS}


@transaction.atomic
def dua_update(*, actor: User | None, dua: DataUseAgreement, **changes) -> DataUseAgreement:
    require_steward(actor)
    _check_fields(changes)
    dua = locked(dua)
    if dua.status != S.DRAFT:
        raise Conflict("Only a draft can be edited; amend it instead.", code=GovernanceErrorCode.NOT_DRAFT)
    for field, value in _clean(_terms(dua) | changes).items():
        setattr(dua, field, value)
    dua.save()
    log_write(
        actor=actor,
        action="agreement.edited",
        obj=dua,
        summary=f"Draft data-use agreement v{dua.version} edited",
        data={"fields": sorted(changes)},
    )
    return dua


@transaction.atomic
def dua_amend(*, actor: User | None, dua: DataUseAgreement, **changes) -> DataUseAgreement:
    """Start an amendment: a new draft version (n+1) of an active DUA, with `changes` applied, under the active contract."""
    require_steward(actor)
    _check_fields(changes)
    current = locked(dua)
    contract = Contract.objects.filter(family=current.contract.family, status=S.ACTIVE).first() or current.contract
    return agreement_amend(
        actor=actor, agreement=current, terms=_clean(_terms(current) | changes), amendable=(S.ACTIVE,), owner={"contract": contract}
    )


def dua_propose(*, actor: User | None, dua: DataUseAgreement, now=None, **rules) -> Proposal:
    """Put a draft DUA (or amendment) to a ratification vote."""
    return agreement_propose(actor=actor, agreement=dua, now=now, **rules)


# --- Enforcement ------------------------------------------------------------------------------------


def dua_check_in_force(*, dua: DataUseAgreement, at: dt.datetime | None = None) -> DataUseAgreement:
    """Refuse any release of labelled data the agreement no longer allows; return the version whose terms apply.

    `dua` may be the version a project was published under: a ratified
    amendment governs at once (selectors.dua_in_force). Raises ApplicationError (403):

    - "dua_not_in_force": the agreement is a draft, under vote, or superseded with no successor in force;
    - "deletion_attested": the client attested it deleted the data (any version of the agreement);
    - "retention_expired": the retention period after the contract ended is over.
    """
    dua = selectors.dua_in_force(dua)
    if dua.status not in (S.ACTIVE, S.EXPIRED, S.TERMINATED):
        raise Forbidden(f"This data-use agreement is {dua.get_status_display().lower()}, not in force.", code=GovernanceErrorCode.DUA_NOT_IN_FORCE)
    attested = selectors.dua_deletion_attested(dua)
    if attested is not None:
        raise Forbidden(
            f"The client attested on {attested.deletion_attested_at:%Y-%m-%d} that it deleted this data "
            f"(DUA v{attested.version}); it is not released again.",
            code=GovernanceErrorCode.DELETION_ATTESTED,
        )
    ends_on = selectors.dua_retention_ends_on(dua)
    if ends_on is not None and timezone.localdate(at or timezone.now()) > ends_on:
        raise Forbidden(f"The retention period ended on {ends_on:%Y-%m-%d}; the data must be deleted.", code=GovernanceErrorCode.RETENTION_EXPIRED)
    return dua


def dua_check_export(*, dua: DataUseAgreement, purpose: str, at: dt.datetime | None = None) -> DataUseAgreement:
    """dua_check_in_force, and `purpose` must be one the governing version permits ("purpose_not_permitted", 403).

    Returns the version whose terms apply (an amendment that drops a purpose refuses it at once).
    """
    dua = dua_check_in_force(dua=dua, at=at)
    if purpose not in dua.permitted_purposes:
        allowed = ", ".join(dua.permitted_purposes) or "none"
        raise Forbidden(
            f"The data-use agreement does not permit “{purpose}” (permitted: {allowed}).",
            code=GovernanceErrorCode.PURPOSE_NOT_PERMITTED,
            fields={"purpose": [f"Not permitted; permitted: {allowed}."]},
        )
    return dua


@transaction.atomic
def dua_log_export(
    *,
    dua: DataUseAgreement,
    organization: ClientOrganization,
    purpose: str,
    project_id: int,
    rows: int | None = None,
    at: dt.datetime | None = None,
) -> DataExportLog:
    """Check (dua_check_export) and record one export of labelled data to the client, against the version in force. Append-only.

    With `rows` the export is recorded as finished; without, it is open (a
    stream about to start) and dua_export_finish records the rows actually sent.
    """
    if dua.contract.organization_id != organization.pk:
        raise Forbidden("This data-use agreement belongs to another organization.", code=GovernanceErrorCode.WRONG_ORGANIZATION)
    dua = dua_check_export(dua=dua, purpose=purpose, at=at)
    if (rows is not None and int(rows) < 0) or int(project_id) <= 0:
        raise ApplicationError("rows must be >= 0 and project_id positive.")
    entry = DataExportLog.objects.create(
        dua=dua,
        organization=organization,
        purpose=purpose,
        project_id=project_id,
        rows=rows or 0,
        finished_at=None if rows is None else timezone.now(),
    )
    if rows is not None:
        _log_export_audit(entry)
    return entry


def _log_export_audit(entry: DataExportLog) -> None:
    log_write(
        actor=None,
        action="dua.export",
        obj=entry.dua,
        summary=f"{entry.organization.name} exported {entry.rows} rows of project {entry.project_id} for {entry.purpose}",
        data={"purpose": entry.purpose, "project_id": entry.project_id, "rows": entry.rows, "export": entry.pk},
    )


@transaction.atomic
def dua_export_finish(*, entry: DataExportLog, rows: int) -> DataExportLog:
    """Record the rows an open export actually sent (once; a second call changes nothing) and audit it."""
    rows, now = max(0, int(rows)), timezone.now()
    if DataExportLog.objects.filter(pk=entry.pk, finished_at__isnull=True).update(rows=rows, finished_at=now):
        entry.rows, entry.finished_at = rows, now
        _log_export_audit(entry)
    return entry


def dua_request_deletions_due(*, now: dt.datetime | None = None) -> int:
    """Ask each client whose retention period ended for a deletion attestation, once per agreement. Idempotent."""
    now = now or timezone.now()
    asked = 0
    for dua in selectors.dua_retention_overdue(at=now).filter(deletion_requested_at__isnull=True):
        with transaction.atomic():
            if not DataUseAgreement.objects.filter(pk=dua.pk, deletion_requested_at__isnull=True).update(
                deletion_requested_at=now
            ):
                continue  # another run asked already
            notification_send_to_organization(
                organization=dua.contract.organization,
                kind="governance.deletion_requested",
                title=f"Please delete the data and attest it: {dua.contract.title}",
                body=(
                    f"The retention period of data-use agreement v{dua.version} ended on "
                    f"{selectors.dua_retention_ends_on(dua):%Y-%m-%d}. Delete the data and send a deletion attestation "
                    f"(POST /api/v1/dua/{dua.pk}/attest-deletion/)."
                ),
                url=f"/api/v1/dua/{dua.pk}/",
            )
            log_write(
                actor=None,
                action="dua.deletion_requested",
                obj=dua,
                summary=f"{dua.contract.organization.name} asked to attest deletion (DUA v{dua.version})",
            )
            asked += 1
    return asked


@transaction.atomic
def dua_attest_deletion(
    *,
    dua: DataUseAgreement,
    actor: User | None,
    statement: str,
    organization: ClientOrganization | None = None,
    now: dt.datetime | None = None,
) -> DataUseAgreement:
    """The client attests that it deleted the data: who (a client user, or None for an organization token), when, and a statement.

    Once per agreement. `organization`, when given (an organization token), must own the agreement.
    """
    statement = (statement or "").strip()
    dua = DataUseAgreement.objects.select_for_update(of=("self",)).select_related("contract__organization").get(pk=dua.pk)
    owner = dua.contract.organization_id
    if (actor is not None and actor.organization_id != owner) or (organization is not None and organization.pk != owner):
        raise Forbidden("Only the client organization's users attest its deletions.", code=GovernanceErrorCode.NOT_CLIENT)
    if dua.status not in (S.ACTIVE, S.EXPIRED, S.TERMINATED):
        raise Conflict("Only an agreement in force or ended has data to delete.", code=GovernanceErrorCode.DUA_NOT_IN_FORCE)
    if dua.deletion_attested_at is not None:
        raise Conflict("Deletion was already attested.", code=GovernanceErrorCode.ALREADY_ATTESTED)
    if len(statement) < 20:
        raise ApplicationError(
            "Describe what was deleted, where and how (at least 20 characters).", fields={"statement": ["Too short."]}
        )
    dua.deletion_attested_at = now or timezone.now()
    dua.deletion_attested_by = actor
    dua.deletion_statement = statement
    dua.save(update_fields=["deletion_attested_at", "deletion_attested_by", "deletion_statement", "updated_at"])
    log_write(
        actor=actor,
        action="dua.deletion_attested",
        obj=dua,
        summary=f"{dua.contract.organization.name} attested deletion (DUA v{dua.version})",
        data={"statement": statement[:2000]},
    )
    from ..signals import dua_rights_changed

    dua_rights_changed.send(sender=DataUseAgreement, dua=dua, reason="deletion_attested")
    return dua
