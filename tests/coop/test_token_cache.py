"""The API token cache (coop/token_cache.py): fewer queries per request, and never a stale grant.

Each test turns the cache on (it is on by default only with Redis) and then does what an attacker or an
overreaching process would hope the cache hides: use a revoked token, a suspended member's token, a deactivated
organization's token, an expired one, or race a revocation with a request that read the old row.
"""

from datetime import timedelta
from unittest import mock

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from coop import services, token_cache
from coop.models import ApiToken
from coop.services.tokens import api_token_authenticate, token_digest
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def cache_on(settings):
    settings.API_TOKEN_CACHE_SECONDS = 30


def _client(plaintext):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {plaintext}")
    return client


def _token_queries(client, path="/api/v1/me/"):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path)
    assert response.status_code == 200, response.content
    return [q["sql"] for q in queries.captured_queries if '"coop_apitoken"' in q["sql"]]


def test_a_second_request_does_not_read_the_token_tables(organization):
    client = _client(factories.org_token(organization))
    assert _token_queries(client)  # the first request reads the token (and records its use)
    assert _token_queries(client) == []


def test_with_the_cache_off_every_request_reads_the_token(organization, settings):
    settings.API_TOKEN_CACHE_SECONDS = 0
    client = _client(factories.org_token(organization))
    _token_queries(client)
    assert _token_queries(client)


def test_adversarial_a_revoked_token_is_refused_on_the_very_next_request(organization, steward):
    issued = services.api_token_create(actor=steward, organization=organization, name="leaked")
    client = _client(issued.plaintext)
    assert client.get("/api/v1/me/").status_code == 200  # now cached
    services.api_token_revoke(actor=steward, token=issued.token)
    assert client.get("/api/v1/me/").status_code == 401


def test_adversarial_a_suspended_member_loses_the_member_role_at_once(member):
    plaintext = services.api_token_create(actor=member, user=member, name="mine").plaintext
    client = _client(plaintext)
    assert client.get("/api/v1/me/").json()["role"] == "member"
    services.membership_suspend(membership=member.membership, actor=None, reason="Decided by the members' vote.")
    me = client.get("/api/v1/me/").json()
    assert me["role"] != "member" and me["membership"]["status"] == "suspended"


def test_adversarial_a_deactivated_organization_or_user_is_refused_at_once(organization, member):
    org_client = _client(factories.org_token(organization))
    member_client = _client(services.api_token_create(actor=member, user=member, name="mine").plaintext)
    assert org_client.get("/api/v1/me/").status_code == member_client.get("/api/v1/me/").status_code == 200

    organization.is_active = False
    organization.save()  # as the Django admin would
    member.is_active = False
    member.save()
    assert org_client.get("/api/v1/me/").status_code == 401
    assert member_client.get("/api/v1/me/").status_code == 401


def test_a_profile_change_reaches_the_next_request(member):
    client = _client(services.api_token_create(actor=member, user=member, name="mine").plaintext)
    assert client.get("/api/v1/me/").status_code == 200
    services.membership_update_profile(membership=member.membership, actor=member, languages=["sw", "en"])
    assert client.get("/api/v1/me/").json()["membership"]["languages"] == ["sw", "en"]


def test_adversarial_a_cached_token_still_expires_on_time(organization):
    issued = services.api_token_create(actor=None, organization=organization, name="short", expires_at=timezone.now() + timedelta(minutes=5))
    client = _client(issued.plaintext)
    assert client.get("/api/v1/me/").status_code == 200
    cached = token_cache.token_cached(token_digest(issued.plaintext))
    assert cached is not None
    cached.expires_at = timezone.now() - timedelta(seconds=1)  # the copy in the cache passes its expiry
    token_cache.cache.set(token_cache._key(cached.digest), cached, 30)
    assert client.get("/api/v1/me/").status_code == 401


def test_adversarial_a_request_that_read_before_a_revocation_cannot_cache_the_old_row(organization, steward):
    """The race: a request reads the token, the revocation commits and forgets it, then the request caches what it read."""
    issued = services.api_token_create(actor=steward, organization=organization, name="raced")
    read_before = ApiToken.objects.select_related("organization", "user", "user__membership").get(pk=issued.token.pk)
    services.api_token_revoke(actor=steward, token=issued.token)
    token_cache.token_remember(read_before)  # too late: the tombstone is there
    assert token_cache.token_cached(read_before.digest) is None
    assert api_token_authenticate(issued.plaintext) is None


def test_last_used_is_still_written_once_a_minute_with_the_cache(organization):
    issued = services.api_token_create(actor=None, organization=organization, name="busy")
    client = _client(issued.plaintext)
    for _ in range(3):
        assert client.get("/api/v1/me/").status_code == 200
    first = ApiToken.objects.get(pk=issued.token.pk).last_used_at
    assert first is not None
    with CaptureQueriesContext(connection) as within_the_minute:
        assert client.get("/api/v1/me/").status_code == 200
    assert not any("last_used_at" in q["sql"] for q in within_the_minute.captured_queries)
    later = first + timedelta(minutes=2)
    with mock.patch("django.utils.timezone.now", return_value=later):
        token_cache.cache.delete(f"api-token-used:{issued.token.digest}")  # its one-minute key has expired by then
        assert client.get("/api/v1/me/").status_code == 200
        assert ApiToken.objects.get(pk=issued.token.pk).last_used_at == later
        assert client.get("/api/v1/me/").status_code == 200  # and once that minute, not on every request


def test_a_process_asks_the_shared_cache_about_a_tokens_use_once_a_minute(organization, monkeypatch):
    """A cached token keeps the last_used_at it was cached with: the process, not every request, asks the cache
    whether the use is due (each ask is a round trip to Redis)."""
    issued = services.api_token_create(actor=None, organization=organization, name="busy")
    client = _client(issued.plaintext)
    asked = []
    real_add = token_cache.cache.add
    monkeypatch.setattr("coop.services.tokens.cache.add", lambda key, *a, **k: (key.startswith("api-token-used:") and asked.append(key)) or real_add(key, *a, **k))
    for _ in range(4):
        assert client.get("/api/v1/me/").status_code == 200
    assert asked == [f"api-token-used:{issued.token.digest}"]
    with mock.patch("django.utils.timezone.now", return_value=timezone.now() + timedelta(minutes=2)):
        client.get("/api/v1/me/")
        client.get("/api/v1/me/")
    assert len(asked) == 2
