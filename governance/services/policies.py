"""Co-op policies change only when a vote passes: policy_set is called by the effect of the proposal."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.utils import timezone

from coop.errors import ApplicationError
from coop.validation import decimal_or_none
from governance.error_codes import GovernanceErrorCode

from ..models import PolicyValue, Proposal
from ..rules import POLICIES
from .audit import log_write


def too_precise(number: Decimal, places: int) -> bool:
    """More significant decimals than `places` (22.5000 is fine for 2 places, 22.505 is not)."""
    try:
        return number.quantize(Decimal(1).scaleb(-places)) != number
    except InvalidOperation:  # too many digits to quantize
        return True


def policy_clean_value(*, key: str, value, field: str = "value") -> Decimal:
    """Parse and bound-check a policy value (Decimal, within the policy's range and precision)."""
    definition = POLICIES.get(key)
    if definition is None:
        raise ApplicationError(f"Unknown policy {key!r}.", code=GovernanceErrorCode.UNKNOWN_POLICY)
    number = decimal_or_none(value, finite=False)
    if number is None:
        raise ApplicationError(f"{definition.label} must be a decimal number.", fields={field: ["Not a number."]})
    if not number.is_finite() or too_precise(number, definition.places):
        raise ApplicationError(
            f"{definition.label} allows at most {definition.places} decimal places.", fields={field: ["Too many decimals."]}
        )
    if not definition.minimum <= number <= definition.maximum:
        raise ApplicationError(
            f"{definition.label} must be between {definition.minimum} and {definition.maximum} {definition.unit}.",
            fields={field: ["Out of range."]},
        )
    return number


@transaction.atomic
def policy_set(*, key: str, value, proposal: Proposal, effective_from: datetime | None = None) -> PolicyValue:
    """Record a new value of a policy, in force from `effective_from` (default: now). Only a passed vote may call it."""
    if proposal is None or proposal.pk is None:
        raise ApplicationError("Policies change only by a vote of the members.", code=GovernanceErrorCode.VOTE_REQUIRED)
    number = policy_clean_value(key=key, value=value)
    row = PolicyValue.objects.create(key=key, value=number, effective_from=effective_from or timezone.now(), set_by=proposal)
    log_write(
        actor=None,
        action="policy.changed",
        obj=row,
        summary=f"{POLICIES[key].label} set to {number} by proposal #{proposal.pk}",
        data={"key": key, "value": str(number), "proposal": proposal.pk},
    )
    return row
