"""Contracts: stewards draft them, amend them as new versions, and put them to the members' vote."""

from __future__ import annotations

import datetime as dt

from django.db import transaction

from coop.error_codes import CoopErrorCode
from coop.errors import ApplicationError, Conflict
from coop.models import ClientOrganization, User
from coop.validation import decimal_or_none
from governance.error_codes import GovernanceErrorCode

from ..models import AgreementStatus, Contract, Proposal, TaskType
from .agreements import agreement_amend, agreement_propose, locked, require_steward
from .audit import log_write

FIELDS = ("title", "scope", "task_types", "rate_card", "payment_terms", "term_start", "term_end", "termination_notice_days")
S = AgreementStatus


def _date(value, field: str, errors: dict) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except (TypeError, ValueError):
        errors[field] = ["Use a date like 2026-01-31."]
        return None


def _clean(data: dict) -> dict:
    """Validate a full set of contract terms; raises one ApplicationError listing every bad field."""
    errors: dict[str, list[str]] = {}
    clean = {}
    clean["title"] = str(data.get("title") or "").strip()
    if not clean["title"] or len(clean["title"]) > 200:
        errors["title"] = ["A title of 1 to 200 characters is required."]
    for field in ("scope", "payment_terms"):
        clean[field] = str(data.get(field) or "").strip()
        if not clean[field]:
            errors[field] = ["Required."]
    task_types = data.get("task_types") or []
    if isinstance(task_types, str):
        task_types = [t.strip() for t in task_types.split(",") if t.strip()]
    if not task_types or any(t not in TaskType.values for t in task_types):
        errors["task_types"] = [f"Choose from: {', '.join(TaskType.values)}."]
    clean["task_types"] = [t for t in TaskType.values if t in task_types]
    rate_card = data.get("rate_card") or {}
    if not isinstance(rate_card, dict):
        errors["rate_card"] = ["A minimum pay per task for each task type."]
        rate_card = {}
    rates = {}
    for task_type in clean["task_types"]:
        rate = decimal_or_none(rate_card.get(task_type, ""))
        if rate is None or rate <= 0 or rate.as_tuple().exponent < -4:
            errors.setdefault("rate_card", []).append(f"{task_type}: give a positive amount with at most 4 decimals.")
        else:
            rates[task_type] = f"{rate:f}"
    extra = sorted(set(rate_card) - set(clean["task_types"]))
    if extra:
        errors.setdefault("rate_card", []).append(f"Rates for task types not in the contract: {', '.join(extra)}.")
    clean["rate_card"] = rates
    clean["term_start"] = _date(data.get("term_start"), "term_start", errors)
    clean["term_end"] = _date(data.get("term_end"), "term_end", errors)
    if clean["term_start"] and clean["term_end"] and clean["term_end"] < clean["term_start"]:
        errors["term_end"] = ["The term must end on or after its start."]
    try:
        clean["termination_notice_days"] = int(data.get("termination_notice_days", 30))
        if not 0 <= clean["termination_notice_days"] <= 365:
            raise ValueError
    except (TypeError, ValueError):
        errors["termination_notice_days"] = ["A number of days from 0 to 365."]
    if errors:
        raise ApplicationError("The contract has errors.", code=GovernanceErrorCode.INVALID_CONTRACT, fields=errors)
    return clean


def _check_fields(changes: dict) -> None:
    unknown = sorted(set(changes) - set(FIELDS))
    if unknown:
        raise ApplicationError(f"Unknown contract fields: {', '.join(unknown)}.")


@transaction.atomic
def contract_create(*, actor: User | None, organization: ClientOrganization, **terms) -> Contract:
    """Draft version 1 of a contract with a client organization."""
    require_steward(actor)
    _check_fields(terms)
    if not organization.is_active:
        raise Conflict("This organization is deactivated.", code=CoopErrorCode.ORGANIZATION_INACTIVE)
    contract = Contract.objects.create(organization=organization, created_by=actor, **_clean(terms))
    log_write(
        actor=actor,
        action="agreement.drafted",
        obj=contract,
        summary=f"Contract “{contract.title}” drafted for {organization.name}",
    )
    return contract


@transaction.atomic
def contract_update(*, actor: User | None, contract: Contract, **changes) -> Contract:
    """Edit a draft (only drafts change; a proposed or ratified version is frozen)."""
    require_steward(actor)
    _check_fields(changes)
    contract = locked(contract)
    if contract.status != S.DRAFT:
        raise Conflict("Only a draft can be edited; amend it instead.", code=GovernanceErrorCode.NOT_DRAFT)
    terms = {field: getattr(contract, field) for field in FIELDS} | changes
    for field, value in _clean(terms).items():
        setattr(contract, field, value)
    contract.save()
    log_write(
        actor=actor,
        action="agreement.edited",
        obj=contract,
        summary=f"Draft contract “{contract.title}” v{contract.version} edited",
        data={"fields": sorted(changes)},
    )
    return contract


@transaction.atomic
def contract_amend(*, actor: User | None, contract: Contract, **changes) -> Contract:
    """Start an amendment: a new draft version (n+1) of an active or ratified contract, with `changes` applied."""
    require_steward(actor)
    _check_fields(changes)
    current = locked(contract)
    terms = _clean({field: getattr(current, field) for field in FIELDS} | changes)
    return agreement_amend(
        actor=actor, agreement=current, terms=terms, amendable=(S.ACTIVE, S.RATIFIED), owner={"organization": current.organization}
    )


def contract_propose(*, actor: User | None, contract: Contract, now=None, **rules) -> Proposal:
    """Put a draft contract (or amendment) to a ratification vote."""
    return agreement_propose(actor=actor, agreement=contract, now=now, **rules)
