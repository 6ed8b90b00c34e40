"""Background jobs: dramatiq broker access and the embedded worker of zero-service mode.

Production runs `manage.py rundramatiq` workers against Redis (a `gpu`
worker consumes only the `gpu` queue). With no REDIS_URL, the broker is
dramatiq's in-process StubBroker and the web process starts a real
dramatiq Worker on it (DRAMATIQ_EMBEDDED_WORKER), so jobs execute with the
same actors, retries and time limits; only the transport differs.
Management commands that enqueue jobs in that mode call `drain()` so their
jobs run before the command exits.
"""

from __future__ import annotations

import logging
import threading

import dramatiq
from django.conf import settings
from django.core.cache import cache
from django.db import transaction

logger = logging.getLogger(__name__)

_embedded_worker: dramatiq.Worker | None = None
_embedded_lock = threading.Lock()


def broker() -> dramatiq.Broker:
    return dramatiq.get_broker()


def enqueue_on_commit(actor_name: str, *ids: int, **options) -> None:
    """Send the job `actor_name(*ids)` once the current transaction commits (at once outside one).

    Services name the actor instead of importing it, so an app's tasks.py imports its services and never the
    other way round. `options` go to dramatiq's send_with_options (e.g. on_failure="webhook_failed").
    A rolled-back write never enqueues a job.
    """

    def send():
        broker().get_actor(actor_name).send_with_options(args=ids, **options)

    transaction.on_commit(send)


# How long a coalescing mark lasts at most: a job that waits longer in its queue lets the next request send another
# (a spare run, never a lost one), and a mark whose job was lost (a crash between mark and send) blocks no longer.
COALESCE_SECONDS = 60


def _coalesce_key(actor_name: str, ids) -> str:
    return "job-queued:" + ":".join([actor_name, *map(str, ids)])


def enqueue_coalesced_on_commit(actor_name: str, *ids: int) -> None:
    """Like enqueue_on_commit, except that while the same job (actor and ids) is queued and not yet started, a
    further request joins it instead of queueing another: a burst of requests runs the job once or twice, not once
    each.

    The job must call `coalesced_job_started` with the same arguments before it reads anything. No request is then
    lost, whatever the order of events: a request that finds the mark made its change (committed) before it looked,
    the mark is still there so the job has not started, and the job reads only after it removes the mark. A request
    after the removal finds no mark and queues the job again. The mark lives in the shared cache (Redis; with no
    REDIS_URL, local memory beside the in-process broker and worker), one SET NX instead of a broker round trip.
    """
    key = _coalesce_key(actor_name, ids)

    def send():
        if not cache.add(key, 1, COALESCE_SECONDS):
            return
        try:
            broker().get_actor(actor_name).send(*ids)
        except BaseException:
            cache.delete(key)  # nothing was queued: the next request must not wait on this mark
            raise

    transaction.on_commit(send)


def coalesced_job_started(actor_name: str, *ids: int) -> None:
    """Called first by a job queued with enqueue_coalesced_on_commit: requests from now on queue it again."""
    cache.delete(_coalesce_key(actor_name, ids))


def is_in_process_broker() -> bool:
    from dramatiq.brokers.stub import StubBroker

    return isinstance(broker(), StubBroker)


def start_embedded_worker() -> dramatiq.Worker | None:
    """Start the in-process worker once per process (idempotent); None when not configured."""
    global _embedded_worker
    if not settings.DRAMATIQ_EMBEDDED_WORKER:
        return None
    with _embedded_lock:
        if _embedded_worker is None:
            the_broker = broker()
            for queue in settings.DRAMATIQ_QUEUES:
                the_broker.declare_queue(queue)
            _embedded_worker = dramatiq.Worker(
                the_broker, queues=set(settings.DRAMATIQ_QUEUES), worker_threads=settings.DRAMATIQ_EMBEDDED_THREADS
            )
            _embedded_worker.start()
            logger.info("Started embedded dramatiq worker on queues %s", ", ".join(settings.DRAMATIQ_QUEUES))
            from .scheduler import start_background_scheduler

            start_background_scheduler()
    return _embedded_worker


def embedded_worker_alive() -> bool:
    worker = _embedded_worker
    return worker is not None and any(t.is_alive() for t in worker.workers)


def drain(timeout_ms: int = 600_000) -> None:
    """Run every queued job to completion in this process (in-process broker only)."""
    if not is_in_process_broker():
        return
    the_broker = broker()
    worker = dramatiq.Worker(the_broker, queues=set(settings.DRAMATIQ_QUEUES), worker_threads=1)
    worker.start()
    try:
        for queue in settings.DRAMATIQ_QUEUES:
            the_broker.declare_queue(queue)
            the_broker.join(queue, timeout=timeout_ms, fail_fast=True)
        worker.join()
    finally:
        worker.stop()
