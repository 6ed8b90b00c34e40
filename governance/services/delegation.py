"""Proxy voting: a member lets another member's named vote count for them.

Rules (Loomio #7641, CONSUL #956):
- for every named ballot, or for one kind of proposal (a category-specific
  proxy wins over a general one);
- revocable at any time; what counts is the proxy in force when a ballot closes;
- a member's own vote always overrides their delegate's;
- one level only: a delegate's vote carries their delegators', never the
  delegators of someone who delegated to the delegate; cycles are refused;
- at most `proxy_limit` (policy, founding 5) members per delegate, checked
  under a row lock on the delegate's membership so parallel requests cannot
  pass it;
- secret ballots are cast in person only (a proxy would need to see the vote).
"""

from __future__ import annotations

from datetime import datetime

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from coop.errors import ApplicationError, Conflict, Forbidden
from coop.models import Membership, User
from governance.error_codes import GovernanceErrorCode

from .. import selectors
from ..models import Delegation, ProposalKind
from .audit import log_write
from .initiative import active_membership
from .notify import notify_users


def _clean_category(category: str) -> str:
    category = (category or "").strip()
    if category and category not in ProposalKind.values:
        raise ApplicationError("Choose a kind of proposal, or none for all named ballots.", fields={"category": ["Unknown kind."]})
    return category


def _live(category: str):
    return Q(revoked_at__isnull=True) & (Q(category=category) | Q(category=""))


def delegation_set(*, user: User, delegate: Membership, category: str = "", now: datetime | None = None) -> Delegation:
    """Name `delegate` as the member's proxy for `category` (replacing their proxy for it, if any)."""
    now = now or timezone.now()
    category = _clean_category(category)
    me = active_membership(user, action="name a proxy")
    with transaction.atomic():
        target = Membership.objects.select_for_update(of=("self",)).filter(pk=getattr(delegate, "pk", None)).first()
        if target is None or target.status != Membership.Status.ACTIVE:
            raise ApplicationError("Your proxy must be a member in good standing.", fields={"delegate": ["Not an active member."]})
        if target.pk == me.pk:
            raise ApplicationError("You cannot be your own proxy.", code=GovernanceErrorCode.DELEGATE_SELF, fields={"delegate": ["That is you."]})
        if _leads_back(start=target.pk, to=me.pk, category=category):
            raise Conflict(
                f"{target.display_name} already passes their vote (directly or through others) to you: that would be a cycle.",
                code=GovernanceErrorCode.DELEGATION_CYCLE,
            )
        held = (
            Delegation.objects.filter(delegate=target, revoked_at__isnull=True)
            .exclude(delegator=me)
            .values("delegator")
            .distinct()
            .count()
        )
        limit = int(selectors.policy_current("proxy_limit"))
        if held >= limit:
            raise Conflict(
                f"{target.display_name} already holds {held} proxies, the most the co-op allows ({limit}).",
                code=GovernanceErrorCode.PROXY_LIMIT_REACHED,
            )
        Delegation.objects.filter(delegator=me, category=category, revoked_at__isnull=True).update(revoked_at=now)
        try:
            with transaction.atomic():
                delegation = Delegation.objects.create(delegator=me, delegate=target, category=category, created_at=now)
        except IntegrityError:
            raise Conflict("You changed this proxy at the same moment in another tab; try again.", code=GovernanceErrorCode.CONCURRENT_CHANGE) from None
        what = ProposalKind(category).label.lower() if category else "every named ballot"
        log_write(
            actor=user,
            action="delegation.set",
            obj=delegation,
            summary=f"{me.display_name} named {target.display_name} as proxy for {what}"[:300],
            data={"delegate": target.pk, "category": category},
        )
        notify_users(
            users=[target.user],
            kind="governance.proxy",
            title=f"{me.display_name} named you as their proxy",
            body=f"Your named votes on {what} now also count for them, unless they vote themselves.",
            url="/governance/proxies/",
        )
    return delegation


def _leads_back(*, start: int, to: int, category: str) -> bool:
    """Does following live proxies (same category or general) from `start` reach `to`?"""
    seen, frontier = set(), {start}
    while frontier:
        if to in frontier:
            return True
        seen |= frontier
        frontier = set(
            Delegation.objects.filter(_live(category), delegator_id__in=frontier).values_list("delegate_id", flat=True)
        ) - seen
    return False


@transaction.atomic
def delegation_revoke(*, user: User, delegation: Delegation, now: datetime | None = None) -> Delegation:
    """The delegator takes their vote back. Revoked proxies stay in the record."""
    delegation = Delegation.objects.select_for_update(of=("self",)).select_related("delegator", "delegate").get(pk=delegation.pk)
    if delegation.delegator.user_id != user.pk:
        raise Forbidden("Only the member who named a proxy can revoke it.", code=GovernanceErrorCode.NOT_YOUR_PROXY)
    if delegation.revoked_at is not None:
        raise Conflict("This proxy is already revoked.", code=GovernanceErrorCode.ALREADY_REVOKED)
    delegation.revoked_at = now or timezone.now()
    delegation.save(update_fields=["revoked_at"])
    log_write(
        actor=user,
        action="delegation.revoked",
        obj=delegation,
        summary=f"{delegation.delegator.display_name} revoked their proxy to {delegation.delegate.display_name}"[:300],
    )
    return delegation
