"""Membership lifecycle: apply -> admitted -> active; leave; suspend/reinstate.

Every transition is validated against one table, runs under a row lock on the
membership, and writes a MembershipEvent (who, when, why) in the same
transaction.
"""

from __future__ import annotations

import zoneinfo

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from coop.error_codes import CoopErrorCode
from coop.errors import ApplicationError, Conflict, Forbidden
from coop.models import Membership, MembershipEvent, User
from coop.validation import require_steward

S = Membership.Status

# (from, to) -> whether a reason is required
TRANSITIONS: dict[tuple[str, str], bool] = {
    (S.APPLIED, S.ADMITTED): False,
    (S.APPLIED, S.DECLINED): True,
    (S.ADMITTED, S.ACTIVE): False,
    (S.ACTIVE, S.SUSPENDED): True,
    (S.SUSPENDED, S.ACTIVE): True,
    (S.ACTIVE, S.LEFT): False,
    (S.ADMITTED, S.LEFT): False,
    (S.SUSPENDED, S.LEFT): False,
    (S.LEFT, S.APPLIED): False,
    (S.DECLINED, S.APPLIED): False,
}


def _clean_list(values, *, field: str, max_items: int = 20, max_len: int = 40) -> list[str]:
    if values is None:
        return []
    if isinstance(values, str):
        values = [v for v in (part.strip() for part in values.split(",")) if v]
    if not isinstance(values, (list, tuple)):
        raise ApplicationError(f"{field} must be a list of strings.", fields={field: ["Must be a list of strings."]})
    cleaned = []
    for value in values:
        if not isinstance(value, str) or not value.strip() or len(value.strip()) > max_len:
            raise ApplicationError(
                f"Each entry in {field} must be text of at most {max_len} characters.",
                fields={field: [f"Entries must be text of 1 to {max_len} characters."]},
            )
        if value.strip().lower() not in cleaned:
            cleaned.append(value.strip().lower())
    if len(cleaned) > max_items:
        raise ApplicationError(f"At most {max_items} entries in {field}.", fields={field: [f"At most {max_items} entries."]})
    return cleaned


def _validate_profile(*, display_name: str, country: str, timezone_name: str) -> dict:
    fields = {}
    display_name = (display_name or "").strip()
    if not display_name or len(display_name) > 80:
        fields["display_name"] = ["A display name of 1 to 80 characters is required."]
    country = (country or "").strip().upper()
    if len(country) != 2 or not country.isalpha():
        fields["country"] = ["Use a two-letter ISO country code, e.g. KE or PH."]
    if timezone_name not in zoneinfo.available_timezones():
        fields["timezone"] = ["Unknown time zone; use an IANA name such as Africa/Nairobi."]
    if fields:
        raise ApplicationError("The profile has errors.", fields=fields)
    return {"display_name": display_name, "country": country, "timezone": timezone_name}


def _transition(membership: Membership, *, to: str, actor: User | None, reason: str = "") -> Membership:
    """Move a locked membership to `to`. Call while holding select_for_update on it."""
    key = (membership.status, to)
    if key not in TRANSITIONS:
        raise Conflict(
            f"A membership that is {membership.get_status_display().lower()} cannot become {S(to).label.lower()}.",
            code=CoopErrorCode.INVALID_TRANSITION,
        )
    reason = (reason or "").strip()
    if TRANSITIONS[key] and not reason:
        raise ApplicationError("A reason is required for this change.", code=CoopErrorCode.REASON_REQUIRED, fields={"reason": ["Required."]})
    from_status = membership.status
    membership.status = to
    membership.status_reason = reason
    steward_change = ""
    if to != S.ACTIVE and membership.is_steward:
        membership.is_steward = False
        steward_change = "revoked"
    if to == S.ADMITTED:
        membership.admitted_at = timezone.now()
    if to == S.ACTIVE and membership.member_number is None:
        _save_with_new_member_number(membership)
    else:
        membership.save()
    MembershipEvent.objects.create(
        membership=membership, from_status=from_status, to_status=to, actor=actor, reason=reason, steward_change=steward_change
    )
    return membership


def _save_with_new_member_number(membership: Membership, attempts: int = 20) -> None:
    """Give a first-time active member the next member number.

    Two activations at once can read the same maximum; the unique constraint
    rejects the second, which retries inside a savepoint with a fresh maximum.
    """
    for _ in range(attempts):
        membership.member_number = (Membership.objects.aggregate(m=Max("member_number"))["m"] or 0) + 1
        try:
            with transaction.atomic():
                membership.save()
            return
        except IntegrityError:
            continue
    raise Conflict("Could not assign a member number; please retry.", code=CoopErrorCode.BUSY)


def _locked(membership: Membership) -> Membership:
    return Membership.objects.select_for_update(of=("self",)).select_related("user").get(pk=membership.pk)


@transaction.atomic
def membership_apply(
    *,
    user: User,
    display_name: str,
    country: str,
    timezone_name: str = "UTC",
    languages=None,
    skills=None,
    motivation: str = "",
) -> Membership:
    """Apply to join (or re-apply after leaving or being declined). Notifies the stewards."""
    from .notifications import notification_send

    if user.organization_id:
        raise Forbidden("Client users cannot become members of the co-op.", code=CoopErrorCode.CLIENT_CANNOT_JOIN)
    profile = _validate_profile(display_name=display_name, country=country, timezone_name=timezone_name)
    profile["languages"] = _clean_list(languages, field="languages")
    profile["skills"] = _clean_list(skills, field="skills")
    profile["motivation"] = (motivation or "").strip()[:4000]

    existing = Membership.objects.select_for_update().filter(user=user).first()
    if existing is None:
        membership = Membership.objects.create(user=user, status=S.APPLIED, **profile)
        MembershipEvent.objects.create(membership=membership, from_status="", to_status=S.APPLIED, actor=user)
    else:
        for key, value in profile.items():
            setattr(existing, key, value)
        membership = _transition(existing, to=S.APPLIED, actor=user)
    user.membership = membership
    for steward in User.objects.filter(membership__is_steward=True, membership__status=S.ACTIVE):
        notification_send(
            user=steward,
            kind="membership.applied",
            title=f"New membership application from {membership.display_name}",
            url="/stewards/applications/",
        )
    return membership


@transaction.atomic
def membership_update_profile(*, membership: Membership, actor: User, **changes) -> Membership:
    if actor.pk != membership.user_id and not actor.is_steward:
        raise Forbidden("You can only edit your own profile.")
    membership = _locked(membership)
    profile = _validate_profile(
        display_name=changes.get("display_name", membership.display_name),
        country=changes.get("country", membership.country),
        timezone_name=changes.get("timezone_name", membership.timezone),
    )
    for key, value in profile.items():
        setattr(membership, key, value)
    if "languages" in changes:
        membership.languages = _clean_list(changes["languages"], field="languages")
    if "skills" in changes:
        membership.skills = _clean_list(changes["skills"], field="skills")
    membership.save()
    return membership


@transaction.atomic
def membership_admit(*, membership: Membership, actor: User | None, reason: str = "") -> Membership:
    """Admit an applicant. They become active once they accept the member agreement."""
    from .notifications import notification_send

    require_steward(actor, system=True)
    membership = _transition(_locked(membership), to=S.ADMITTED, actor=actor, reason=reason)
    notification_send(
        user=membership.user,
        kind="membership.admitted",
        title="You have been admitted to the co-op",
        body="Accept the member agreement to start working and voting.",
        url="/membership/",
    )
    return membership


@transaction.atomic
def membership_activate(*, membership: Membership, actor: User, accept_agreement: bool) -> Membership:
    """The admitted applicant accepts the member agreement and becomes an active member."""
    if actor.pk != membership.user_id:
        raise Forbidden("Only the applicant can accept the member agreement.")
    if not accept_agreement:
        raise ApplicationError(
            "You must accept the member agreement.", code=CoopErrorCode.AGREEMENT_REQUIRED, fields={"accept_agreement": ["Required."]}
        )
    return _transition(_locked(membership), to=S.ACTIVE, actor=actor, reason="Accepted the member agreement.")


@transaction.atomic
def membership_decline(*, membership: Membership, actor: User | None, reason: str) -> Membership:
    from .notifications import notification_send

    require_steward(actor, system=True)
    membership = _transition(_locked(membership), to=S.DECLINED, actor=actor, reason=reason)
    notification_send(user=membership.user, kind="membership.declined", title="Your application was declined", body=reason)
    return membership


@transaction.atomic
def membership_suspend(*, membership: Membership, actor: User | None, reason: str) -> Membership:
    """Suspend an active member. A reason is required; the member is notified.

    No single person suspends: `actor` must be None, i.e. the co-op acting on a
    decision made elsewhere (a members' vote, a panel, or an interim suspension
    confirmed by two stewards: governance.services.due_process).
    """
    from .notifications import notification_send

    if actor is not None:
        raise Forbidden(
            "No single person suspends a member: propose a suspension to the members, "
            "or ask for an interim suspension that a second steward confirms.",
            code=CoopErrorCode.SUSPENSION_NEEDS_DUE_PROCESS,
        )
    membership = _transition(_locked(membership), to=S.SUSPENDED, actor=actor, reason=reason)
    notification_send(
        user=membership.user,
        kind="membership.suspended",
        title="Your membership has been suspended",
        body=f"Reason: {membership.status_reason}",
        url="/membership/",
    )
    return membership


@transaction.atomic
def membership_reinstate(*, membership: Membership, actor: User | None, reason: str) -> Membership:
    from .notifications import notification_send

    require_steward(actor, system=True)
    membership = _transition(_locked(membership), to=S.ACTIVE, actor=actor, reason=reason)
    notification_send(user=membership.user, kind="membership.reinstated", title="Your membership is active again", body=reason)
    return membership


@transaction.atomic
def membership_leave(*, membership: Membership, actor: User, reason: str = "") -> Membership:
    if actor.pk != membership.user_id:
        raise Forbidden("Only the member can leave; stewards use suspension.")
    return _transition(_locked(membership), to=S.LEFT, actor=actor, reason=reason)


@transaction.atomic
def membership_steward_set(*, membership: Membership, actor: User | None, is_steward: bool, reason: str = "") -> Membership:
    """Grant or revoke the steward role (an elected board seat) for an active member."""
    require_steward(actor, system=True)
    membership = _locked(membership)
    if membership.status != S.ACTIVE:
        raise Conflict("Only active members can be stewards.", code=CoopErrorCode.NOT_ACTIVE)
    if membership.is_steward == is_steward:
        return membership
    membership.is_steward = is_steward
    membership.save(update_fields=["is_steward", "updated_at"])
    MembershipEvent.objects.create(
        membership=membership,
        from_status=membership.status,
        to_status=membership.status,
        steward_change="granted" if is_steward else "revoked",
        actor=actor,
        reason=reason,
    )
    return membership
