"""Shared fixtures. Real database, broker, channel layer and cache: whatever the settings point at.

CI runs the suite twice: with no variables (SQLite, in-process broker and
channel layer, local-memory cache) and with DATABASE_URL/REDIS_URL pointing
at PostgreSQL and a Redis database reserved for tests.
"""

from __future__ import annotations

import dramatiq
import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from rest_framework.test import APIClient

from tests import factories


@pytest.fixture(autouse=True)
def _clean_cache():
    # Rate limits and other cached state must not leak between tests (nor the live-progress coalescing,
    # since a rolled-back test's project id comes back in the next test on SQLite).
    from marketplace.services import progress

    cache.clear()
    progress._last_sent.clear()
    yield


@pytest.fixture
def api_client():
    return APIClient()


@pytest.fixture
def member(db):
    return factories.make_member()


@pytest.fixture
def steward(db):
    return factories.make_steward()


@pytest.fixture
def applicant(db):
    return factories.make_applicant()


@pytest.fixture
def organization(db):
    return factories.make_organization("Acme Labs", contact_name="Casey", contact_email="casey@acme.example")


@pytest.fixture
def client_user(organization):
    return factories.make_client_user(organization)


@pytest.fixture
def org_api(organization):
    """An API client authenticated with a fresh token of `organization`."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {factories.org_token(organization)}")
    return client


@pytest.fixture
def member_api(member):
    client = APIClient()
    client.force_authenticate(member)
    return client


@pytest.fixture
def dramatiq_worker(transactional_db):
    """A real dramatiq worker on the configured broker (StubBroker or Redis), consuming every queue.

    Jobs run in worker threads with their own database connections, so tests
    using it need committed data (transactional_db).
    """
    broker = dramatiq.get_broker()
    broker.flush_all()
    for queue in settings.DRAMATIQ_QUEUES:
        broker.declare_queue(queue)
    worker = dramatiq.Worker(broker, queues=set(settings.DRAMATIQ_QUEUES), worker_threads=2, worker_timeout=100)
    worker.start()
    yield worker
    worker.stop()
    broker.flush_all()


def join_queues(timeout_ms: int = 30_000) -> None:
    """Wait until every queue is drained (re-raising a job's failure on the StubBroker)."""
    broker = dramatiq.get_broker()
    for queue in settings.DRAMATIQ_QUEUES:
        kwargs = {"fail_fast": True} if hasattr(broker, "dead_letters_by_queue") else {}
        broker.join(queue, timeout=timeout_ms, **kwargs)


requires_postgres = pytest.mark.skipif(
    "postgresql" not in settings.DATABASES["default"]["ENGINE"],
    reason="needs PostgreSQL (set DATABASE_URL=postgres://...): row locks and real concurrency",
)


@pytest.fixture
def pg_only():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (set DATABASE_URL=postgres://...)")
