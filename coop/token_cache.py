"""The authenticated API token, kept in the shared cache for `API_TOKEN_CACHE_SECONDS`, forgotten the moment it changes.

Every API request authenticates a token with its organization, user and membership (four tables). The cache keeps
that row set by token digest. What makes it safe:

- Forgetting writes a tombstone, not a delete, at once and again when the change commits. A request that read the
  database before the commit can only `add` its copy, which never overwrites the tombstone, so it cannot put the old
  state back. The tombstone outlives any such request (the cache lifetime and 10 s more; a request adds
  right after its read); a rolled-back change costs only that long of database reads.
- Signals (post_save, post_delete) on ApiToken, User, Membership and ClientOrganization forget every token of the
  changed row. A steward suspending a member, an admin deactivating an organization in the Django admin, a token
  revoked from the portal, a member's new languages or country: the next request reads the database again.
- Expiry is checked on the cached token at every request (`ApiToken.is_active` compares with now).
"""

from __future__ import annotations

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import Q
from django.db.models.signals import post_delete, post_save

from coop.models import ApiToken, ClientOrganization, Membership, User

_GONE = "gone"


def _key(digest: str) -> str:
    return f"api-token:{digest}"


def _seconds() -> int:
    return settings.API_TOKEN_CACHE_SECONDS


def token_cached(digest: str, *, hit=None) -> ApiToken | None:
    """The token kept for this digest, or None (not kept, forgotten, or caching off).

    With `hit` (a coop.throttling.HitAhead), the request's rate-limit hit is counted in the same round trip, where
    the cache can pipeline it (coop.cache.RedisCache); `hit.hits` stays None otherwise."""
    if not _seconds():
        return None
    get_and_count_hit = getattr(cache, "get_and_count_hit", None)
    if hit is not None and get_and_count_hit is not None:
        kept, hit.hits, hit.previous = get_and_count_hit(_key(digest), hit.current_key, hit.previous_key, hit.timeout)
    else:
        kept = cache.get(_key(digest))
    return kept if isinstance(kept, ApiToken) else None


def token_remember(token: ApiToken) -> None:
    """Keep a token read from the database; never replaces a tombstone or a newer copy."""
    if _seconds():
        cache.add(_key(token.digest), token, _seconds())


def tokens_forget(*, digests=(), user_ids=(), organization_ids=()) -> None:
    """Forget these tokens, or those of these users or organizations, once the current transaction commits."""
    if not _seconds():
        return
    digests = list(digests)
    if user_ids or organization_ids:
        query = Q(user_id__in=list(user_ids)) | Q(organization_id__in=list(organization_ids))
        digests += ApiToken.objects.filter(query).values_list("digest", flat=True)
    if digests:
        tombstones = {_key(d): _GONE for d in digests}
        gone_for = _seconds() + 10
        cache.set_many(tombstones, gone_for)  # now: no request caches the old state while the change is in flight
        transaction.on_commit(lambda: cache.set_many(tombstones, gone_for))  # and again once it is visible to all


def _token_changed(sender, instance, created=False, **kwargs):
    if not created:
        tokens_forget(digests=[instance.digest])


def _user_changed(sender, instance, created=False, **kwargs):
    if not created:
        tokens_forget(user_ids=[instance.pk])


def _membership_changed(sender, instance, **kwargs):
    tokens_forget(user_ids=[instance.user_id])


def _organization_changed(sender, instance, created=False, **kwargs):
    if not created:
        tokens_forget(organization_ids=[instance.pk])


def connect() -> None:
    """Called from CoopConfig.ready()."""
    for model, receiver in (
        (ApiToken, _token_changed),
        (User, _user_changed),
        (Membership, _membership_changed),
        (ClientOrganization, _organization_changed),
    ):
        post_save.connect(receiver, sender=model, dispatch_uid=f"token-cache-{model.__name__}-save")
        post_delete.connect(receiver, sender=model, dispatch_uid=f"token-cache-{model.__name__}-delete")
