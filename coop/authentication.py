"""DRF authentication with `Authorization: Bearer <token>`."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from coop.services.tokens import api_token_authenticate, token_digest


class BearerTokenAuthentication(authentication.BaseAuthentication):
    """Authenticates organization tokens and personal member tokens.

    For a personal token, request.user is the member. For an organization
    token, request.user is an OrganizationPrincipal (the organization, not a
    person). In both cases request.auth is the ApiToken; client APIs scope
    everything by `permissions.client_organization(request)`.
    """

    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode("latin-1")
        if not header:
            return None
        parts = header.split()
        if parts[0].lower() != self.keyword.lower():
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed("Malformed Authorization header; expected 'Bearer <token>'.")
        from coop.throttling import MemberRateThrottle

        digest = token_digest(parts[1])
        request.hit_ahead = MemberRateThrottle.count_ahead(request, digest)  # counted with the token's read
        token = api_token_authenticate(parts[1], hit=request.hit_ahead)
        if token is None:
            MemberRateThrottle.token_refused(digest)
            raise exceptions.AuthenticationFailed("Invalid, revoked or expired API token.")
        if token.user_id:
            user = token.user
            if not user.is_active:
                MemberRateThrottle.token_refused(digest)
                raise exceptions.AuthenticationFailed("This account is disabled.")
        else:
            user = OrganizationPrincipal(token)
        MemberRateThrottle.token_authenticated(digest, user)
        return (user, token)

    def authenticate_header(self, request):
        return self.keyword


class OrganizationPrincipal:
    """request.user for calls made with an organization token: the organization itself, not a person."""

    is_authenticated = True
    is_anonymous = False
    is_active = True
    is_staff = False
    is_superuser = False
    is_member = False
    is_steward = False
    is_client = True
    role = "client"
    pk = None
    id = None

    def __init__(self, token):
        self.token = token
        self.organization = token.organization
        self.organization_id = token.organization_id

    def __str__(self):
        return f"organization:{self.organization.slug}"

    def has_perm(self, perm, obj=None):
        return False


class BearerTokenScheme(OpenApiAuthenticationExtension):
    target_class = "coop.authentication.BearerTokenAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer", "description": "An organization or personal API token."}
