import subprocess
import sys

import pytest
from django.core.cache import cache

from coop.tasks import healthcheck_ping
from tests.conftest import join_queues


@pytest.mark.django_db
def test_healthz_reports_each_service(client):
    body = client.get("/healthz").json()
    assert set(body["checks"]) == {"database", "broker", "channel_layer"}
    assert body["checks"]["database"]["ok"] and body["checks"]["channel_layer"]["ok"]
    assert body["status"] == "ok"


def test_healthz_deep_round_trip_through_a_worker(client, dramatiq_worker, settings):
    settings.HEALTHZ_SECRET = "monitor-secret"  # deep checks are for stewards and the monitor
    body = client.get("/healthz?deep=1", HTTP_X_HEALTHZ_SECRET="monitor-secret").json()
    assert body["checks"]["broker"]["worker_round_trip"] is True


def test_healthz_reports_a_down_database(client, transactional_db, monkeypatch):
    from coop import health

    def broken():
        raise ConnectionError("database is down")

    monkeypatch.setattr(health, "_check_database", broken)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["checks"]["database"] == {"ok": False, "error": "unavailable"}  # the text goes to the log only


def test_a_job_really_executes_on_the_default_queue(dramatiq_worker):
    healthcheck_ping.send("job-test")
    join_queues()
    assert cache.get("healthz:job-test") == "ok"


def test_gpu_queue_is_separate(settings):
    assert set(settings.DRAMATIQ_QUEUES) == {"default", "gpu"}


def test_web_process_never_imports_torch_or_timm():
    """Load everything a web process loads (settings, apps, URLs, ASGI app, admin) and check sys.modules."""
    code = (
        "import os, sys;"
        "os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'tests.settings');"
        "import django; django.setup();"
        "from django.urls import get_resolver; get_resolver().url_patterns;"
        "import config.asgi, config.wsgi;"
        "from django.contrib import admin; admin.autodiscover();"
        "bad = sorted(m for m in ('torch', 'timm', 'torchvision') if m in sys.modules);"
        "print(','.join(bad)); sys.exit(1 if bad else 0)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, f"web process imported: {result.stdout} {result.stderr[-2000:]}"


def test_drain_runs_queued_jobs_in_a_command_process(transactional_db):
    """Management commands in zero-service mode run their queued jobs before exiting (coop.jobs.drain)."""
    from coop import jobs

    if not jobs.is_in_process_broker():
        pytest.skip("drain() only applies to the in-process broker; Redis workers run jobs in their own processes")
    jobs.broker().flush_all()
    healthcheck_ping.send("drained")
    jobs.drain(timeout_ms=20_000)
    assert cache.get("healthz:drained") == "ok"


def test_the_wsgi_entry_point_production_serves_http_with_is_djangos_handler():
    """Production serves HTTP with gunicorn on config.wsgi:application (README; the hot-path benchmark's
    --server gunicorn drives it for real); it must load the same settings and URLs as the ASGI entry point. Both
    entry points leave what they loaded out of the garbage collector's full collections (gc.freeze): run in their
    own processes, since a frozen test process would never collect what it held then."""
    for entry in ("config.wsgi", "config.asgi"):
        code = (
            "import gc, os;"
            "os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'tests.settings');"
            f"from {entry} import application;"
            "from django.core.handlers.wsgi import WSGIHandler;"
            "from django.urls import resolve;"
            "assert resolve('/api/v1/work/next/').url_name and resolve('/healthz');"
            "print(type(application).__name__, isinstance(application, WSGIHandler), gc.get_freeze_count())"
        )
        result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stderr[-2000:]
        kind, is_wsgi, frozen = result.stdout.split()
        assert (kind, is_wsgi) == (("WSGIHandler", "True") if entry == "config.wsgi" else ("ProtocolTypeRouter", "False"))
        assert int(frozen) > 50_000  # the loaded application: modules, classes, URL patterns
