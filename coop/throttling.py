"""API rate limits as a sliding-window counter: two integers per member, one cache round trip per request.

DRF's SimpleRateThrottle keeps every request's timestamp of the last period in one cached list, unpickled and
written back whole on every request: at the default 6,000 per minute a busy member's list holds thousands of
floats, so the throttle's cost grows with the member's own rate. Here each fixed window (one period long) has a
counter; a request counts itself in the current window and is allowed while

    hits in the current window + hits in the previous window × the share of the previous window still in view

is at most the rate (Cloudflare's sliding-window estimate). A refused request is counted too, so a client that
keeps hammering stays refused until it slows down below the rate.
"""

from __future__ import annotations

import math

from rest_framework.throttling import UserRateThrottle

from coop.authentication import OrganizationPrincipal


class MemberRateThrottle(UserRateThrottle):
    """Scope "user" (DEFAULT_THROTTLE_RATES): per member, per organization (its tokens together), per address when anonymous."""

    def get_cache_key(self, request, view):
        user = request.user
        if isinstance(user, OrganizationPrincipal):  # an organization token: its organization (the principal has no pk)
            ident = f"org{user.organization.pk}"
        elif user and user.is_authenticated:
            ident = user.pk
        else:
            ident = self.get_ident(request)
        return self.cache_format % {"scope": self.scope, "ident": ident}

    def allow_request(self, request, view):
        if self.rate is None:
            return True
        key = self.get_cache_key(request, view)
        if key is None:
            return True
        self.now = self.timer()
        window = int(self.now // self.duration)
        current_key, previous_key = f"{key}:{window}", f"{key}:{window - 1}"
        timeout = 2 * self.duration  # the next window still reads this one as its previous
        count_hit = getattr(self.cache, "count_hit", None)
        if count_hit is not None:  # coop.cache.RedisCache: INCR, EXPIRE and GET pipelined
            hits, previous = count_hit(current_key, previous_key, timeout)
        else:  # any other Django cache (the zero-service default: local memory)
            self.cache.add(current_key, 0, timeout)
            hits, previous = self.cache.incr(current_key), self.cache.get(previous_key, 0)
        self.elapsed = self.now / self.duration - window  # share of the current window gone by
        self.previous = previous
        self.estimate = hits + previous * (1 - self.elapsed)
        return self.estimate <= self.num_requests

    def wait(self):
        """Seconds until the estimate is back under the rate, were no request made meanwhile."""
        excess = self.estimate - self.num_requests
        if excess <= 0:
            return None
        if self.previous and excess <= self.previous * (1 - self.elapsed):
            # The previous window's weight falls by previous/duration each second.
            return math.ceil(excess / self.previous * self.duration)
        # Only the next window clears this one: there this window's hits weigh (1 - share gone by).
        return math.ceil((1 - self.elapsed + 1 - self.num_requests / self.estimate) * self.duration)
