"""API rate limits as a sliding-window counter: two integers per member, one cache round trip per request.

DRF's SimpleRateThrottle keeps every request's timestamp of the last period in one cached list, unpickled and
written back whole on every request: at the default 6,000 per minute a busy member's list holds thousands of
floats, so the throttle's cost grows with the member's own rate. Here each fixed window (one period long) has a
counter; a request counts itself in the current window and is allowed while

    hits in the current window + hits in the previous window × the share of the previous window still in view

is at most the rate (Cloudflare's sliding-window estimate). A refused request is counted too, so a client that
keeps hammering stays refused until it slows down below the rate.

A request made with an API token usually reads the token from the same cache just before (coop.token_cache).
Once a process has authenticated a token it knows whose counter the token's requests count against (a token's
member or organization never changes), so from then on the authentication counts the hit in the token's own
round trip (`count_ahead`) and the throttle uses that count: one round trip a request, not two. Such a hit is
counted before the view's permission check, so a request the permissions then refuse counts too (DRF counts
only the requests that pass them); a token that fails to authenticate is forgotten, so it counts at most once
more per process.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from rest_framework.throttling import UserRateThrottle

from coop.principals import OrganizationPrincipal


@dataclass
class HitAhead:
    """A request's hit, counted with its token's read: the counter's keys at `now`, then what the cache answered."""

    key: str
    now: float
    current_key: str
    previous_key: str
    timeout: int
    hits: int | None = None  # None: not counted (the cache could not pipeline it), the throttle counts it itself
    previous: int = 0


# The counter each authenticated token's requests count against, by token digest (bounded like coop.services.tokens'
# memo: cleared when full). Filled only by a successful authentication, dropped by a failed one.
_ident_of_token: dict[str, str] = {}
_IDENT_OF_TOKEN_MAX = 10_000


def _ident(user) -> str:
    if isinstance(user, OrganizationPrincipal):  # an organization token: its organization (the principal has no pk)
        return f"org{user.organization.pk}"
    return str(user.pk)


class MemberRateThrottle(UserRateThrottle):
    """Scope "user" (DEFAULT_THROTTLE_RATES): per member, per organization (its tokens together), per address when anonymous."""

    def get_cache_key(self, request, view):
        user = request.user
        if isinstance(user, OrganizationPrincipal) or (user and user.is_authenticated):
            ident = _ident(user)
        else:
            ident = self.get_ident(request)
        return self.cache_format % {"scope": self.scope, "ident": ident}

    def _keys(self, key: str, now: float) -> tuple[str, str]:
        window = int(now // self.duration)
        return f"{key}:{window}", f"{key}:{window - 1}"

    @classmethod
    def count_ahead(cls, request, digest: str) -> HitAhead | None:
        """The hit to count with this token's read, or None: the process has not seen the token authenticate yet,
        or the view does not throttle with this class."""
        ident = _ident_of_token.get(digest)
        view = (getattr(request, "parser_context", None) or {}).get("view")
        if ident is None or view is None or cls not in getattr(view, "throttle_classes", ()):
            return None
        throttle = cls()
        if throttle.rate is None:
            return None
        key = throttle.cache_format % {"scope": throttle.scope, "ident": ident}
        now = throttle.timer()
        return HitAhead(key, now, *throttle._keys(key, now), timeout=2 * throttle.duration)

    @staticmethod
    def token_authenticated(digest: str, user) -> None:
        if digest not in _ident_of_token:
            if len(_ident_of_token) >= _IDENT_OF_TOKEN_MAX:
                _ident_of_token.clear()
            _ident_of_token[digest] = _ident(user)

    @staticmethod
    def token_refused(digest: str) -> None:
        """A revoked or expired token: its next requests are no longer counted against its owner."""
        _ident_of_token.pop(digest, None)

    def allow_request(self, request, view):
        if self.rate is None:
            return True
        key = self.get_cache_key(request, view)
        if key is None:
            return True
        ahead = getattr(request, "hit_ahead", None)
        if ahead is not None and ahead.key == key and ahead.hits is not None:  # counted with the token's read
            self.now, hits, previous = ahead.now, ahead.hits, ahead.previous
        else:
            self.now = self.timer()
            current_key, previous_key = self._keys(key, self.now)
            timeout = 2 * self.duration  # the next window still reads this one as its previous
            count_hit = getattr(self.cache, "count_hit", None)
            if count_hit is not None:  # coop.cache.RedisCache: INCR, EXPIRE and GET pipelined
                hits, previous = count_hit(current_key, previous_key, timeout)
            else:  # any other Django cache (the zero-service default: local memory)
                self.cache.add(current_key, 0, timeout)
                hits, previous = self.cache.incr(current_key), self.cache.get(previous_key, 0)
        self.elapsed = self.now / self.duration - int(self.now // self.duration)  # share of the current window gone by
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
