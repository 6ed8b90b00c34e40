"""Status transitions shared by contracts and data-use agreements (see governance.models.agreements).

Every transition locks the rows it changes (SELECT FOR UPDATE, by pk) and
writes a governance log entry in the same transaction. Activation supersedes
the family's previous active version first, so the database's "one active
version per family" constraint always holds.
"""

from __future__ import annotations

from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone

from coop.error_codes import CoopErrorCode
from coop.errors import ApplicationError, Conflict
from coop.models import User
from coop.validation import require_steward as _require_steward
from governance.error_codes import GovernanceErrorCode

from ..models import AgreementStatus, Contract, DataUseAgreement, Proposal, ProposalKind
from .audit import log_write
from .proposals import proposal_create_unchecked

S = AgreementStatus


AGREEMENTS_STEWARD = "Only stewards draft and propose agreements."


def require_steward(actor: User | None) -> None:
    """Agreements are drafted by stewards, or by the co-op itself (a passed vote): coop.validation's one check."""
    _require_steward(actor, AGREEMENTS_STEWARD, system=True)


def _label(agreement) -> str:
    if isinstance(agreement, Contract):
        return f"contract “{agreement.title}” v{agreement.version}"
    return f"data-use agreement v{agreement.version} for “{agreement.contract.title}”"


def locked(agreement):
    return type(agreement).objects.select_for_update(of=("self",)).get(pk=agreement.pk)


def agreement_amend(*, actor: User | None, agreement, terms: dict, amendable: tuple[str, ...], owner: dict):
    """Start an amendment: a new draft version (n+1) of `agreement` with the cleaned `terms`.

    The one path for contracts and data-use agreements (contract_amend and
    dua_amend clean the terms and say who owns the new version). Locks the
    agreement; the database's "one draft per family" constraint refuses a
    second amendment in progress.
    """
    require_steward(actor)
    model = type(agreement)
    agreement = locked(agreement)
    if agreement.status not in amendable:
        what = " or ".join(S(status).label.lower() for status in amendable)
        raise Conflict(f"Only an {what} {_kind_name(agreement)} can be amended.", code=GovernanceErrorCode.NOT_AMENDABLE)
    latest = model.objects.filter(family=agreement.family).order_by("-version").values_list("version", flat=True).first()
    try:
        with transaction.atomic():
            amendment = model.objects.create(
                family=agreement.family, version=latest + 1, previous=agreement, created_by=actor, **owner, **terms
            )
    except IntegrityError as exc:
        raise Conflict(f"An amendment of this {_kind_name(agreement)} is already being drafted or voted on.", code=GovernanceErrorCode.AMENDMENT_OPEN) from exc
    log_write(
        actor=actor,
        action="agreement.amendment_drafted",
        obj=amendment,
        summary=f"Amendment v{amendment.version} of the {_label(amendment)} drafted"[:300],
    )
    return amendment


def _kind_name(agreement) -> str:
    return "contract" if isinstance(agreement, Contract) else "data-use agreement"


def agreement_propose(*, actor: User | None, agreement, now: datetime | None = None, **rules) -> Proposal:
    """Put a draft agreement to a ratification vote; it becomes "proposed" (frozen) in the same transaction."""
    require_steward(actor)
    if agreement is None:
        raise ApplicationError("Choose the agreement to ratify.", fields={"agreement": ["Required."]})
    with transaction.atomic():
        agreement = locked(agreement)
        if agreement.status != S.DRAFT:
            raise Conflict(
                f"Only a draft can be proposed; this one is {agreement.get_status_display().lower()}.", code=GovernanceErrorCode.NOT_DRAFT
            )
        is_contract = isinstance(agreement, Contract)
        if not is_contract and agreement.contract.status in (S.EXPIRED, S.TERMINATED, S.SUPERSEDED):
            raise Conflict("The contract of this agreement is no longer in force.", code=GovernanceErrorCode.CONTRACT_ENDED)
        agreement.status = S.PROPOSED
        agreement.save(update_fields=["status", "updated_at"])
        what = "Ratify" if agreement.version == 1 else f"Amend (version {agreement.version})"
        title = f"{what}: {agreement.title}" if is_contract else f"{what}: data-use agreement for {agreement.contract.title}"
        proposal = proposal_create_unchecked(
            creator=actor,
            kind=ProposalKind.CONTRACT_RATIFICATION if is_contract else ProposalKind.DUA_RATIFICATION,
            title=title[:200],
            body="Read the full terms"
            + (" and the changes from the previous version" if agreement.version > 1 else "")
            + " before voting.",
            contract=agreement if is_contract else None,
            dua=None if is_contract else agreement,
            now=now,
            **{k: v for k, v in rules.items() if v is not None},
        )
        log_write(
            actor=actor,
            action="agreement.proposed",
            obj=agreement,
            summary=f"{_label(agreement)} put to a vote (proposal #{proposal.pk})",
        )
    return proposal


def _starts_now(agreement, today) -> bool:
    return not isinstance(agreement, Contract) or agreement.term_start <= today


def _activate(agreement, *, now: datetime) -> None:
    """Make a ratified version active, superseding the family's active one. Call holding the agreement's lock."""
    model = type(agreement)
    for old in (
        model.objects.select_for_update(of=("self",))
        .filter(family=agreement.family, status=S.ACTIVE)
        .exclude(pk=agreement.pk)
        .order_by("pk")
    ):
        old.status = S.SUPERSEDED
        old.ended_at = now
        old.end_reason = f"Superseded by version {agreement.version}."
        old.save(update_fields=["status", "ended_at", "end_reason", "updated_at"])
        log_write(
            actor=None, action="agreement.superseded", obj=old, summary=f"{_label(old)} superseded by version {agreement.version}"
        )
    agreement.status = S.ACTIVE
    agreement.activated_at = now
    agreement.save(update_fields=["status", "activated_at", "updated_at"])
    log_write(actor=None, action="agreement.activated", obj=agreement, summary=f"{_label(agreement)} is in force")
    if isinstance(agreement, DataUseAgreement):
        from ..signals import dua_rights_changed

        dua_rights_changed.send(sender=DataUseAgreement, dua=agreement, reason="activated")


@transaction.atomic
def agreement_ratify(*, agreement, proposal: Proposal, now: datetime | None = None):
    """Effect of a passed ratification: ratified, and active at once unless a contract's term starts later."""
    now = now or timezone.now()
    agreement = locked(agreement)
    if agreement.status != S.PROPOSED:
        raise Conflict(f"Only a proposed agreement can be ratified; this one is {agreement.status}.", code=GovernanceErrorCode.NOT_PROPOSED)
    agreement.status = S.RATIFIED
    agreement.ratified_by = proposal
    agreement.ratified_at = now
    agreement.save(update_fields=["status", "ratified_by", "ratified_at", "updated_at"])
    log_write(
        actor=None, action="agreement.ratified", obj=agreement, summary=f"{_label(agreement)} ratified by proposal #{proposal.pk}"
    )
    if _starts_now(agreement, timezone.localdate(now)):
        _activate(agreement, now=now)
    return agreement


@transaction.atomic
def agreement_return_to_draft(*, agreement, proposal: Proposal):
    """Follow-up of a failed or withdrawn ratification: the agreement can be edited and proposed again."""
    agreement = locked(agreement)
    if agreement.status == S.PROPOSED:
        agreement.status = S.DRAFT
        agreement.save(update_fields=["status", "updated_at"])
        log_write(
            actor=None,
            action="agreement.returned_to_draft",
            obj=agreement,
            summary=f"{_label(agreement)} is a draft again (proposal #{proposal.pk} did not pass)",
        )
    return agreement


def _end_family_duas(contract: Contract, *, status: str, now: datetime, reason: str) -> None:
    for dua in (
        DataUseAgreement.objects.select_for_update(of=("self",))
        .filter(contract__family=contract.family, status=S.ACTIVE)
        .order_by("pk")
    ):
        dua.status = status
        dua.ended_at = now
        dua.end_reason = reason
        dua.save(update_fields=["status", "ended_at", "end_reason", "updated_at"])
        log_write(actor=None, action=f"agreement.{status}", obj=dua, summary=f"{_label(dua)} {status}: {reason}"[:300])


def agreements_roll_terms(*, now: datetime | None = None) -> dict:
    """Start ratified contracts whose term has begun; expire active ones whose term has ended (and their DUAs). Idempotent."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    started = expired = 0
    for pk in Contract.objects.filter(status=S.RATIFIED, term_start__lte=today).order_by("pk").values_list("pk", flat=True):
        with transaction.atomic():
            contract = (
                Contract.objects.select_for_update(skip_locked=True, of=("self",))
                .filter(pk=pk, status=S.RATIFIED)
                .order_by("pk")
                .first()
            )
            if contract is not None:
                _activate(contract, now=now)
                started += 1
    for pk in Contract.objects.filter(status=S.ACTIVE, term_end__lt=today).order_by("pk").values_list("pk", flat=True):
        with transaction.atomic():
            contract = (
                Contract.objects.select_for_update(skip_locked=True, of=("self",))
                .filter(pk=pk, status=S.ACTIVE)
                .order_by("pk")
                .first()
            )
            if contract is None:
                continue
            reason = f"The contract's term ended on {contract.term_end:%Y-%m-%d}."
            contract.status = S.EXPIRED
            contract.ended_at = now
            contract.end_reason = reason
            contract.save(update_fields=["status", "ended_at", "end_reason", "updated_at"])
            log_write(actor=None, action="agreement.expired", obj=contract, summary=f"{_label(contract)} expired")
            _end_family_duas(contract, status=S.EXPIRED, now=now, reason=reason)
            expired += 1
    return {"started": started, "expired": expired}


@transaction.atomic
def contract_terminate(*, actor: User | None, contract: Contract, reason: str, now: datetime | None = None) -> Contract:
    """End an active contract early (a steward, with a reason); its data-use agreements end with it."""
    from coop.services import notification_send_to_organization

    require_steward(actor)
    now = now or timezone.now()
    reason = (reason or "").strip()
    if not reason:
        raise ApplicationError("Say why the contract is terminated.", code=CoopErrorCode.REASON_REQUIRED, fields={"reason": ["Required."]})
    contract = locked(contract)
    if contract.status != S.ACTIVE:
        raise Conflict("Only an active contract can be terminated.", code=CoopErrorCode.NOT_ACTIVE)
    contract.status = S.TERMINATED
    contract.ended_at = now
    contract.end_reason = reason
    contract.save(update_fields=["status", "ended_at", "end_reason", "updated_at"])
    log_write(actor=actor, action="agreement.terminated", obj=contract, summary=f"{_label(contract)} terminated: {reason}"[:300])
    _end_family_duas(contract, status=S.TERMINATED, now=now, reason=f"The contract was terminated: {reason}")
    notification_send_to_organization(
        organization=contract.organization, kind="governance.contract_terminated", title=f"Contract terminated: {contract.title}", body=reason
    )
    return contract
