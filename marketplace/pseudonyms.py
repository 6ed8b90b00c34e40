"""How a client sees a worker: a stable pseudonym per client organization, never the identity.

Its own module because every part of the marketplace that shows workers to clients needs it (results,
bonuses, questions, the books' records); it imports nothing of the marketplace.
"""

from __future__ import annotations

import hashlib
import hmac

from django.conf import settings


def worker_pseudonym(*, organization_id: int, worker_id: int) -> str:
    """A stable pseudonymous id for a worker as seen by one client organization (never the identity)."""
    digest = hmac.new(settings.PSEUDONYM_KEY.encode(), f"{organization_id}:{worker_id}".encode(), hashlib.sha256).hexdigest()
    return f"w_{digest[:16]}"
