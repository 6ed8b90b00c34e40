"""Periodic jobs: actors that run on a schedule (lease reclaim, ballot closing, auto-accept...).

Mark an actor with `@periodic(seconds=...)` (below the `@dramatiq.actor`
decorator's result). The scheduler only *enqueues* the actor; a dramatiq
worker runs it, so every periodic job gets retries and time limits, and
must be idempotent. Run exactly one scheduler per deployment:

- zero-service mode: a background APScheduler thread in the web process
  (started with the embedded worker);
- production: `python manage.py runscheduler` (one process).
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

import dramatiq
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.blocking import BlockingScheduler

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PeriodicJob:
    actor: dramatiq.Actor
    seconds: int


_registry: dict[str, PeriodicJob] = {}
_background: BackgroundScheduler | None = None
_lock = threading.Lock()


def periodic(*, seconds: int):
    """Register a dramatiq actor (taking no arguments) to be enqueued every `seconds`."""

    def register(actor: dramatiq.Actor) -> dramatiq.Actor:
        _registry[actor.actor_name] = PeriodicJob(actor=actor, seconds=seconds)
        return actor

    return register


def periodic_jobs() -> list[PeriodicJob]:
    return sorted(_registry.values(), key=lambda job: job.actor.actor_name)


def _enqueue(actor_name: str) -> None:
    try:
        _registry[actor_name].actor.send()
    except Exception:  # a broker hiccup must not kill the scheduler; the next tick retries
        logger.exception("Could not enqueue periodic job %s", actor_name)


def _configure(scheduler) -> None:
    for job in periodic_jobs():
        scheduler.add_job(
            _enqueue,
            "interval",
            seconds=job.seconds,
            args=[job.actor.actor_name],
            id=job.actor.actor_name,
            max_instances=1,
            coalesce=True,
        )


def start_background_scheduler() -> BackgroundScheduler:
    """Start the in-process scheduler once per process (zero-service mode)."""
    global _background
    with _lock:
        if _background is None:
            _background = BackgroundScheduler(daemon=True, timezone="UTC")
            _configure(_background)
            _background.start()
            logger.info("Started in-process scheduler with %d periodic job(s)", len(_registry))
    return _background


def run_blocking_scheduler() -> None:
    scheduler = BlockingScheduler(timezone="UTC")
    _configure(scheduler)
    for job in periodic_jobs():
        logger.info("Every %ss: %s", job.seconds, job.actor.actor_name)
    scheduler.start()
