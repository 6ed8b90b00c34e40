"""Bonuses: a client pays workers of its project more, with a reason they see, through the ledger from its cash.

Money rule: each bonus posts client_cash → worker_earnings (+ the co-op fee on top, as for all client
payments), once per (batch, worker) (event key "bonus:<batch>:<worker>"). The whole request is refused
before anything is written when the client's cash does not cover every bonus and fee. A request is
idempotent by the client's key: the same key and the same request return the first result; the same key
with a different request is a conflict. Workers are named by the pseudonyms the client sees in exports.
"""

from __future__ import annotations

import hashlib
import json
from decimal import Decimal

from django.db import IntegrityError, transaction

from coop.error_codes import CoopErrorCode
from coop.errors import ApplicationError, Conflict
from coop.models import ClientOrganization, User
from coop.validation import check_text
from marketplace.error_codes import MarketplaceErrorCode

from ..ledger.models import AccountKind as K
from ..ledger.models import TransactionKind as T
from ..ledger.selectors import account_balance
from ..ledger.services import account_for, fee_for, ledger_post, lock_account, money
from ..models import Answer, Project
from ..pay import current_fee_rate
from ..pseudonyms import worker_pseudonym
from .models import Bonus, BonusBatch

MAX_WORKERS = 1000


def _workers_of(project: Project, *, accepted_only: bool) -> dict[str, int]:
    answers = Answer.objects.filter(task__project=project)
    if accepted_only:
        answers = answers.filter(status=Answer.Status.ACCEPTED)
    ids = set(answers.values_list("worker_id", flat=True).distinct())
    return {worker_pseudonym(organization_id=project.organization_id, worker_id=pk): pk for pk in ids}


def _fingerprint(project: Project, amount: Decimal, reason: str, workers, all_accepted: bool) -> str:
    asked = {"project": project.pk, "amount": str(amount), "reason": reason, "workers": sorted(workers or []), "all": all_accepted}
    return hashlib.sha256(json.dumps(asked, sort_keys=True).encode()).hexdigest()


def bonus_pay(
    *,
    organization: ClientOrganization,
    project: Project,
    client_key: str,
    amount,
    reason: str,
    workers: list[str] | None = None,
    all_accepted: bool = False,
    created_by: User | None = None,
) -> tuple[BonusBatch, bool]:
    """Pay `amount` to each named worker (pseudonyms) or to all with accepted answers. Returns (batch, created)."""
    client_key = (client_key or "").strip()
    if not client_key or len(client_key) > 100:
        raise ApplicationError("A client_key of 1 to 100 characters makes the bonus safe to retry.", fields={"client_key": ["Required."]})
    if project.organization_id != organization.pk:
        raise ApplicationError("No such project.", code=CoopErrorCode.NOT_FOUND, status=404)
    amount = money(amount, field="amount")
    reason = check_text((reason or "").strip(), field="reason")
    if not 5 <= len(reason) <= 500:
        raise ApplicationError("Say why (5 to 500 characters): the worker sees it.", fields={"reason": ["Required."]})
    if bool(workers) == bool(all_accepted):
        raise ApplicationError("Name the workers, or ask for all with accepted answers (not both).", fields={"workers": ["Or all_accepted."]})
    fingerprint = _fingerprint(project, amount, reason, workers, all_accepted)
    existing = BonusBatch.objects.filter(organization=organization, client_key=client_key).first()
    if existing is not None:
        if existing.fingerprint != fingerprint:
            raise Conflict("This client_key was used for a different bonus.", code=MarketplaceErrorCode.CLIENT_KEY_REUSED)
        return existing, False
    known = _workers_of(project, accepted_only=all_accepted)
    if all_accepted:
        chosen = sorted(known.values())
        if not chosen:
            raise ApplicationError("Nobody has an accepted answer in this project yet.", code=MarketplaceErrorCode.NO_WORKERS)
    else:
        if not isinstance(workers, list) or len(workers) > MAX_WORKERS or not all(isinstance(w, str) for w in workers):
            raise ApplicationError(f"'workers' is a list of at most {MAX_WORKERS} worker ids.", fields={"workers": ["Invalid."]})
        unknown = sorted(set(workers) - set(known))
        if unknown:
            raise ApplicationError(
                f"Not workers of this project: {', '.join(unknown[:10])}.", code=MarketplaceErrorCode.UNKNOWN_WORKERS, fields={"workers": ["Unknown worker."]}
            )
        chosen = sorted({known[w] for w in workers})
    fee = fee_for(amount, current_fee_rate())
    currency = project.currency
    try:
        with transaction.atomic():
            cash = lock_account(account_for(kind=K.CLIENT_CASH, organization=organization, currency=currency))
            total = (amount + fee) * len(chosen)
            available = account_balance(cash)
            if available < total:
                raise ApplicationError(
                    f"Your balance ({available} {currency}) does not cover these bonuses and the co-op fee ({total}).",
                    code=MarketplaceErrorCode.INSUFFICIENT_FUNDS,
                    extra={"available": str(available), "required": str(total)},
                )
            batch = BonusBatch.objects.create(
                organization=organization, project=project, client_key=client_key, amount=amount, reason=reason, fingerprint=fingerprint
            )
            fees = account_for(kind=K.COOP_FEES, currency=currency)
            for worker_id in chosen:
                worker = User(pk=worker_id)
                earnings = account_for(kind=K.WORKER_EARNINGS, user=worker, currency=currency)
                entries = [(cash, amount + fee), (earnings, -amount)] + ([(fees, -fee)] if fee else [])
                posted = ledger_post(
                    event_key=f"bonus:{batch.pk}:{worker_id}", kind=T.BONUS, entries=entries,
                    description=f"Bonus in “{project.title}”: {reason}"[:300], created_by=created_by if created_by and created_by.pk else None,
                    organization=organization, project=project, user=worker,
                )
                Bonus.objects.create(batch=batch, worker_id=worker_id, amount=amount, transaction=posted)
            _notify(batch, chosen)
    except IntegrityError:
        existing = BonusBatch.objects.filter(organization=organization, client_key=client_key).first()
        if existing is None:
            raise
        if existing.fingerprint != fingerprint:
            raise Conflict("This client_key was used for a different bonus.", code=MarketplaceErrorCode.CLIENT_KEY_REUSED) from None
        return existing, False
    return batch, True


def _notify(batch: BonusBatch, worker_ids: list[int]) -> None:
    from django.urls import reverse

    from coop.services.notifications import notification_send

    for worker in User.objects.filter(pk__in=worker_ids):  # stored with the bonus; the live push follows the commit
        notification_send(
            user=worker, kind="marketplace.bonus", title=f"A bonus of {batch.amount.normalize():f} {batch.project.currency} from {batch.organization.name}",
            body=batch.reason, url=reverse("marketplace:earnings"),
        )
