"""Reads of the co-op domain."""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet

from .models import ApiToken, ClientOrganization, Membership, MembershipEvent, Notification, User


def membership_list(*, status: str | None = None, search: str = "") -> QuerySet[Membership]:
    queryset = Membership.objects.select_related("user").order_by("-created_at")
    if status:
        queryset = queryset.filter(status=status)
    if search:
        queryset = queryset.filter(Q(display_name__icontains=search) | Q(user__email__icontains=search))
    return queryset


def membership_events(*, membership: Membership) -> QuerySet[MembershipEvent]:
    return membership.events.select_related("actor")


def membership_counts() -> dict[str, int]:
    rows = Membership.objects.values("status").annotate(n=Count("id"))
    counts = {status: 0 for status in Membership.Status.values}
    counts.update({row["status"]: row["n"] for row in rows})
    counts["stewards"] = Membership.objects.filter(is_steward=True).count()
    return counts


def organization_list() -> QuerySet[ClientOrganization]:
    return ClientOrganization.objects.annotate(
        user_count=Count("users", distinct=True),
        active_token_count=Count("api_tokens", filter=Q(api_tokens__revoked_at__isnull=True), distinct=True),
    ).order_by("name")


def organization_visible_to(*, user: User, slug: str) -> ClientOrganization | None:
    """A steward sees every organization; a client user only their own. None means 404 (never a leak)."""
    queryset = ClientOrganization.objects.filter(slug=slug)
    if not user.is_steward:
        queryset = queryset.filter(pk=user.organization_id) if user.organization_id else queryset.none()
    return queryset.first()


def api_tokens_for(*, organization: ClientOrganization | None = None, user: User | None = None) -> QuerySet[ApiToken]:
    queryset = ApiToken.objects.select_related("created_by")
    if organization is not None:
        return queryset.filter(organization=organization)
    return queryset.filter(user=user)


def notification_list(*, user: User, unread_only: bool = False) -> QuerySet[Notification]:
    queryset = Notification.objects.filter(user=user)
    if unread_only:
        queryset = queryset.filter(read_at__isnull=True)
    return queryset
