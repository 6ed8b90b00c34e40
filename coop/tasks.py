"""dramatiq actors of the co-op domain. Actors take ids and call services."""

import dramatiq
from django.core.cache import cache


@dramatiq.actor(queue_name="default", max_retries=0, time_limit=10_000)
def healthcheck_ping(token: str) -> None:
    """Proves a worker consumes the default queue: /healthz enqueues it and waits for the mark."""
    cache.set(f"healthz:{token}", "ok", timeout=60)
