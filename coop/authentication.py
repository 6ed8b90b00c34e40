"""DRF authentication with `Authorization: Bearer <token>`."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from coop.error_codes import CoopErrorCode
from coop.errors import Forbidden
from coop.middleware import user_has_totp
from coop.principals import OrganizationPrincipal
from coop.services.tokens import api_token_authenticate, token_digest
from coop.throttling import MemberRateThrottle


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
            if user.is_steward and not user_has_totp(user):
                # As in the portal (StewardMFARequiredMiddleware): a personal token made before the member became
                # a steward must not carry a steward's powers around the two-factor requirement.
                raise Forbidden("Stewards must set up two-factor authentication first.", code=CoopErrorCode.MFA_REQUIRED)
        else:
            user = OrganizationPrincipal(token)
        MemberRateThrottle.token_authenticated(digest, user)
        return (user, token)

    def authenticate_header(self, request):
        return self.keyword


class BearerTokenScheme(OpenApiAuthenticationExtension):
    target_class = "coop.authentication.BearerTokenAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer", "description": "An organization or personal API token."}
