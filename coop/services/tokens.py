"""API tokens: random, shown once, stored as SHA-256 digests, scoped to an organization or a member.

Tokens carry 256 bits of randomness, so a fast digest is enough (no password
hashing needed); lookup is by the digest's unique index. The visible prefix
lets people tell tokens apart without revealing them.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from coop.error_codes import CoopErrorCode
from coop.errors import ApplicationError, Conflict, Forbidden
from coop.models import ApiToken, ClientOrganization, User
from coop.token_cache import token_cached, token_remember

# last_used_at is written at most this often per token, so authenticated
# request bursts do not turn into a write per request.
LAST_USED_RESOLUTION = timedelta(seconds=60)


@dataclass(frozen=True)
class IssuedToken:
    token: ApiToken
    plaintext: str  # shown to the user exactly once


def token_digest(plaintext: str) -> str:
    return hashlib.sha256(plaintext.encode()).hexdigest()


def _can_manage_org_tokens(actor: User | None, organization: ClientOrganization) -> bool:
    if actor is None:  # management command run by an operator
        return True
    return actor.is_steward or (actor.is_org_admin and actor.organization_id == organization.pk)


@transaction.atomic
def api_token_create(
    *,
    actor: User | None,
    name: str,
    organization: ClientOrganization | None = None,
    user: User | None = None,
    expires_at=None,
) -> IssuedToken:
    """Create a token for an organization (steward or org admin) or a personal token for a member."""
    name = (name or "").strip()
    if not name or len(name) > 80:
        raise ApplicationError("Give the token a name of 1 to 80 characters.", fields={"name": ["Required, at most 80 characters."]})
    if (organization is None) == (user is None):
        raise ApplicationError("A token belongs to exactly one organization or one member.", code=CoopErrorCode.TOKEN_SCOPE)
    if organization is not None:
        if not _can_manage_org_tokens(actor, organization):
            raise Forbidden("Only stewards and the organization's admins can create its tokens.")
        if not organization.is_active:
            raise Conflict("This organization is deactivated.", code=CoopErrorCode.ORGANIZATION_INACTIVE)
    else:
        if actor is not None and actor.pk != user.pk:
            raise Forbidden("Members create their own personal tokens.")
        if not user.is_member:
            raise Forbidden("Personal API tokens are for active members.", code=CoopErrorCode.MEMBER_REQUIRED)
    if expires_at is not None and expires_at <= timezone.now():
        raise ApplicationError("The expiry must be in the future.", fields={"expires_at": ["Must be in the future."]})

    prefix = secrets.token_hex(4)
    plaintext = f"{settings.API_TOKEN_PREFIX}_{prefix}_{secrets.token_urlsafe(32)}"
    token = ApiToken.objects.create(
        name=name,
        prefix=prefix,
        digest=token_digest(plaintext),
        organization=organization,
        user=user,
        created_by=actor,
        expires_at=expires_at,
    )
    return IssuedToken(token=token, plaintext=plaintext)


@transaction.atomic
def api_token_revoke(*, actor: User | None, token: ApiToken) -> ApiToken:
    token = ApiToken.objects.select_for_update().get(pk=token.pk)
    if token.organization_id:
        if not _can_manage_org_tokens(actor, token.organization):
            raise Forbidden("You cannot revoke this token.")
    elif actor is not None and actor.pk != token.user_id and not actor.is_steward:
        raise Forbidden("You cannot revoke this token.")
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.revoked_by = actor
        token.save(update_fields=["revoked_at", "revoked_by", "updated_at"])
    return token


def api_token_authenticate(plaintext: str, *, hit=None) -> ApiToken | None:
    """Return the active token for a presented secret, recording its use; None if unknown/revoked/expired.

    `hit` (a coop.throttling.HitAhead): the request's rate-limit hit, counted in the same cache round trip as the
    token's read."""
    if not plaintext or len(plaintext) > 200:
        return None
    digest = token_digest(plaintext)
    token = token_cached(digest, hit=hit)
    if token is None:
        token = ApiToken.objects.select_related("organization", "user", "user__membership").filter(digest=digest).first()
        if token is None:
            return None
        token_remember(token)
    if not token.is_active:
        return None
    if token.organization_id and not token.organization.is_active:
        return None
    _record_use(token, digest)
    return token


# When this process last asked the shared cache whether a token's use is due to be written, by digest. A cached
# token keeps the last_used_at it was cached with, so without this every request after the first minute would ask
# (a Redis round trip each): now a process asks once a minute per token, and the cache's add() still lets only one
# request a minute among all processes write the row. Cleared when it holds this many tokens (memory stays bounded).
_use_asked: dict[str, object] = {}
_USE_ASKED_MAX = 10_000


def _record_use(token: ApiToken, digest: str) -> None:
    now = timezone.now()
    if token.last_used_at is not None and now - token.last_used_at <= LAST_USED_RESOLUTION:
        return
    asked = _use_asked.get(digest)
    if asked is None or not timedelta(0) <= now - asked <= LAST_USED_RESOLUTION:
        if len(_use_asked) >= _USE_ASKED_MAX:
            _use_asked.clear()
        _use_asked[digest] = now
        if cache.add(f"api-token-used:{digest}", 1, int(LAST_USED_RESOLUTION.total_seconds())):
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    token.last_used_at = now
