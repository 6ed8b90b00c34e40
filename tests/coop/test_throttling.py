"""The API rate limit (coop.throttling): a sliding-window counter, on whichever cache the run has (local memory
in the zero-service pass, Redis in the PostgreSQL + Redis pass)."""

from types import SimpleNamespace

import pytest
from django.contrib.auth.models import AnonymousUser

from coop import services
from coop.principals import OrganizationPrincipal
from coop.throttling import MemberRateThrottle
from tests import factories
from tests.concurrency import run_threads

pytestmark = pytest.mark.django_db


class Clock:
    def __init__(self, now: float):
        self.now = now

    def __call__(self):
        return self.now


def throttle(rate: str, clock: Clock) -> MemberRateThrottle:
    class Limited(MemberRateThrottle):
        timer = clock

    Limited.rate = rate
    return Limited()


def request_of(user, address="203.0.113.7"):
    return SimpleNamespace(user=user, META={"REMOTE_ADDR": address}, headers={})


def hits(rate, clock, request, n) -> list[bool]:
    return [throttle(rate, clock).allow_request(request, None) for _ in range(n)]


def test_the_rate_holds_in_a_window_and_the_refusal_says_how_long_to_wait():
    clock = Clock(600.0)  # the start of a minute window
    member = request_of(factories.make_member())
    assert hits("3/min", clock, member, 3) == [True] * 3
    refused = throttle("3/min", clock)
    assert refused.allow_request(member, None) is False
    assert 0 < refused.wait() <= 120


def test_the_previous_window_still_counts_for_the_part_of_it_in_view():
    """Three hits at the end of one minute: a client cannot fire three more the instant the next begins."""
    clock = Clock(659.0)
    member = request_of(factories.make_member())
    assert hits("3/min", clock, member, 3) == [True] * 3
    clock.now = 661.0  # 1 s into the next window: the previous weighs 59/60 × 3 ≈ 2.95
    assert hits("3/min", clock, member, 1) == [False]
    clock.now = 710.0  # 50 s in: the previous weighs 0.5 (10/60 × 3), plus the refused one and this one: 2.5
    assert hits("3/min", clock, member, 1) == [True]
    clock.now = 790.0  # two windows on: nothing of the old hits is left
    assert hits("3/min", clock, member, 3) == [True] * 3


def test_limits_are_per_member_per_organization_and_per_address():
    clock = Clock(0.0)
    first, second = request_of(factories.make_member()), request_of(factories.make_member())
    assert hits("2/min", clock, first, 3) == [True, True, False]
    assert hits("2/min", clock, second, 2) == [True, True]  # another member has their own budget

    one, other = factories.make_organization(), factories.make_organization()
    tokens = [services.api_token_create(actor=None, organization=one, name=f"t{i}").token for i in range(2)]
    # An organization's principal has no pk: its tokens share the organization's budget, other clients have theirs.
    assert hits("2/min", clock, request_of(OrganizationPrincipal(tokens[0])), 2) == [True, True]
    assert hits("2/min", clock, request_of(OrganizationPrincipal(tokens[1])), 1) == [False]
    other_token = services.api_token_create(actor=None, organization=other, name="t").token
    assert hits("2/min", clock, request_of(OrganizationPrincipal(other_token)), 1) == [True]

    assert hits("2/min", clock, request_of(AnonymousUser(), "198.51.100.1"), 3) == [True, True, False]
    assert hits("2/min", clock, request_of(AnonymousUser(), "198.51.100.2"), 1) == [True]


def test_parallel_requests_never_get_more_than_the_rate():
    """Twenty requests at once against a rate of 10: the counter is atomic, exactly 10 get through."""
    clock = Clock(1200.0)
    member = request_of(factories.make_member())
    results, errors = run_threads([lambda: throttle("10/min", clock).allow_request(member, None) for _ in range(20)])
    assert not errors
    assert sorted(results) == [False] * 10 + [True] * 10


def test_a_busy_member_costs_the_same_per_request_as_an_idle_one():
    """DRF's list of timestamps grew with the member's rate; the counters stay two small integers."""
    from django.core.cache import cache

    clock = Clock(60.0)
    member = request_of(factories.make_member())
    for _ in range(500):
        throttle("6000/min", clock).allow_request(member, None)
    key = throttle("6000/min", clock).get_cache_key(member, None)
    assert cache.get(f"{key}:1") == 500


class TestOverHttp:
    """A token's requests count their hit in the token's own cache round trip once the process knows the token;
    the rate holds exactly as before, each request counted once."""

    @pytest.fixture(autouse=True)
    def three_a_minute(self, monkeypatch):
        from coop import throttling

        monkeypatch.setattr(MemberRateThrottle, "rate", "3/min", raising=False)
        monkeypatch.setattr(MemberRateThrottle, "timer", staticmethod(lambda: 600.0))  # one window throughout
        monkeypatch.setattr(throttling, "_ident_of_token", {})

    @staticmethod
    def get(plaintext, path="/api/v1/work/submissions/"):
        from rest_framework.test import APIClient

        return APIClient().get(path, HTTP_AUTHORIZATION=f"Bearer {plaintext}").status_code

    @staticmethod
    def counted(ident) -> int:
        from django.core.cache import cache

        return cache.get(f"throttle_user_{ident}:10", 0)  # 600 s is window 10 of a 60 s period

    def test_each_request_counts_once_and_the_fourth_is_refused(self, monkeypatch):
        from django.core.cache import cache

        member = factories.make_member()
        plaintext = services.api_token_create(actor=member, user=member, name="mine").plaintext
        pipelined = []
        if hasattr(cache, "get_and_count_hit"):  # Redis: the hit rides with the token's read from the second request
            original = cache.get_and_count_hit
            monkeypatch.setattr(cache, "get_and_count_hit", lambda *args: pipelined.append(1) or original(*args))
        assert [self.get(plaintext) for _ in range(4)] == [200, 200, 200, 429]
        assert self.counted(member.pk) == 4  # counted once each, the refused one too
        assert len(pipelined) == (3 if hasattr(cache, "get_and_count_hit") else 0)

    def test_an_organizations_tokens_share_its_budget(self):
        organization = factories.make_organization()
        first, second = (services.api_token_create(actor=None, organization=organization, name=n).plaintext for n in "ab")
        codes = [self.get(token, "/api/v1/projects/") for token in (first, second, first, second)]
        assert codes == [200, 200, 200, 429] and self.counted(f"org{organization.pk}") == 4

    def test_a_revoked_token_does_not_spend_its_members_budget(self):
        """Whoever still holds a revoked token cannot lock its member out by sending it again and again."""
        member = factories.make_member()
        old = services.api_token_create(actor=member, user=member, name="old")
        current = services.api_token_create(actor=member, user=member, name="current").plaintext
        assert self.get(old.plaintext) == 200  # the process now knows whose budget the token spends
        services.api_token_revoke(actor=member, token=old.token)
        assert [self.get(old.plaintext) for _ in range(10)] == [401] * 10
        assert self.counted(member.pk) <= 2  # the first refused request may have been counted, then no more
        assert self.get(current) == 200

    def test_a_view_that_does_not_throttle_with_it_counts_nothing_ahead(self):
        request = SimpleNamespace(parser_context={"view": SimpleNamespace(throttle_classes=[])})
        member = factories.make_member()
        MemberRateThrottle.token_authenticated("d" * 64, member)
        assert MemberRateThrottle.count_ahead(request, "d" * 64) is None
        request.parser_context["view"].throttle_classes = [MemberRateThrottle]
        assert MemberRateThrottle.count_ahead(request, "d" * 64).key == f"throttle_user_{member.pk}"
        assert MemberRateThrottle.count_ahead(request, "e" * 64) is None  # a token this process has not seen
