"""Payout destinations: where a member wants to be paid (bank, mobile money such as M-Pesa, other).

An account-takeover guard: changing the destination e-mails the member's address on file (so a stolen
session cannot redirect pay silently) and holds payouts for PAYOUT_HOLD: no new payout request and no
payout marked paid until then (marketplace/ledger/payouts.py calls `payout_hold_check`). Stewards see
the details on the payout desk; everywhere else shows only the masked form.
"""

from __future__ import annotations

import re
from datetime import timedelta

from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from coop.error_codes import CoopErrorCode
from coop.errors import ApplicationError, Conflict, Forbidden
from coop.models import User
from coop.validation import check_text
from marketplace.error_codes import MarketplaceErrorCode

from .models import PayoutDestination

PAYOUT_HOLD = timedelta(hours=24)
M = PayoutDestination.Method
FIELDS = {
    M.BANK: ("account_name", "iban_or_account", "bank"),
    M.MOBILE_MONEY: ("provider", "phone"),
    M.OTHER: ("description",),
}


def _mask(method: str, details: dict) -> str:
    def last4(value: str) -> str:
        digits = re.sub(r"\s", "", value)
        return "••••" + digits[-4:] if len(digits) > 4 else "••••"

    if method == M.BANK:
        return f"Bank {details['bank']} {last4(details['iban_or_account'])}"[:120]
    if method == M.MOBILE_MONEY:
        return f"{details['provider']} {last4(details['phone'])}"[:120]
    return f"Other: {details['description'][:20]}…" if len(details["description"]) > 20 else f"Other: {details['description']}"


def current_destination(member: User) -> PayoutDestination | None:
    return PayoutDestination.objects.filter(member=member, is_current=True).first()


@transaction.atomic
def payout_destination_set(*, member: User, method: str, details: dict) -> PayoutDestination:
    """Record where the member wants to be paid; e-mail them and hold payouts for PAYOUT_HOLD. Bad input changes nothing."""
    if not member.is_member:
        raise Forbidden("Only members have payout destinations.", code=CoopErrorCode.MEMBER_REQUIRED)
    if method not in FIELDS:
        raise ApplicationError(f"method is one of {', '.join(FIELDS)}.", fields={"method": ["Unknown."]})
    if not isinstance(details, dict):
        raise ApplicationError("details must be an object.", fields={"details": ["Must be an object."]})
    unknown = set(details) - set(FIELDS[method])
    clean, errors = {}, {}
    for name in FIELDS[method]:
        value = details.get(name)
        if not isinstance(value, str) or not value.strip() or len(value) > 200:
            errors[f"details.{name}"] = ["Required (1 to 200 characters)."]
        else:
            clean[name] = check_text(value.strip(), field=f"details.{name}")
    if method == M.MOBILE_MONEY and "phone" in clean and not re.fullmatch(r"\+?[0-9 ]{7,20}", clean["phone"]):
        errors["details.phone"] = ["A phone number, digits only (e.g. +254 712 345678)."]
    for name in unknown:
        errors[f"details.{name}"] = ["Unknown field."]
    if errors:
        raise ApplicationError("The payout destination has errors.", fields=errors)
    now = timezone.now()
    previous = PayoutDestination.objects.select_for_update().filter(member=member, is_current=True).first()
    if previous is not None:
        PayoutDestination.objects.filter(pk=previous.pk).update(is_current=False)
    destination = PayoutDestination.objects.create(
        member=member, method=method, details=clean, masked=_mask(method, clean), created_at=now, payouts_held_until=now + PAYOUT_HOLD
    )
    from coop.services.notifications import notification_send

    notification_send(
        user=member, kind="payout.destination_changed", title="Your payout destination changed",
        body=f"Now: {destination.masked}. Payouts are held until {destination.payouts_held_until:%Y-%m-%d %H:%M} UTC. Not you? Tell a steward now.",
    )
    transaction.on_commit(lambda: send_mail(
        "Your payout destination changed",
        f"Your payout destination is now {destination.masked}"
        + (f" (it was {previous.masked})" if previous else "")
        + f".\nPayouts are held until {destination.payouts_held_until:%Y-%m-%d %H:%M} UTC.\n"
        "If you did not make this change, reply to this e-mail or tell a steward at once.",
        None, [member.email], fail_silently=True,
    ))
    return destination


def payout_hold_check(worker: User, *, now=None) -> None:
    """Refuse while a recent change of destination holds payouts (the account-takeover guard)."""
    now = now or timezone.now()
    destination = current_destination(worker)
    if destination is not None and destination.payouts_held_until > now:
        raise Conflict(
            f"Payouts are held until {destination.payouts_held_until:%Y-%m-%d %H:%M} UTC: the payout destination changed recently.",
            code=MarketplaceErrorCode.PAYOUT_DESTINATION_HOLD,
            extra={"held_until": destination.payouts_held_until.isoformat()},
        )
