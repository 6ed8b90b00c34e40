"""DRF permissions by role."""

from rest_framework.permissions import BasePermission


class IsMember(BasePermission):
    message = "This API is for active members of the co-op."

    def has_permission(self, request, view):
        return bool(getattr(request.user, "is_member", False))


class IsSteward(BasePermission):
    message = "This API is for stewards."

    def has_permission(self, request, view):
        return bool(getattr(request.user, "is_steward", False))


class IsClient(BasePermission):
    """A client organization's token, or a logged-in client user."""

    message = "This API is for client organizations."

    def has_permission(self, request, view):
        return client_organization(request) is not None


def client_organization(request):
    """The organization a client request acts for, from its token or its logged-in client user."""
    token = request.auth
    if token is not None and getattr(token, "organization_id", None):
        return token.organization
    user = request.user
    if getattr(user, "is_authenticated", False) and getattr(user, "organization_id", None):
        return user.organization
    return None
