"""GET /healthz: database, broker and channel-layer status as JSON (503 if any is down)."""

from __future__ import annotations

import time
import uuid

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.core.cache import cache
from django.db import connection
from django.http import JsonResponse

from . import jobs


def _check_database() -> dict:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return {"ok": True, "vendor": connection.vendor}


def _check_broker(deep: bool) -> dict:
    broker = jobs.broker()
    result = {"ok": True, "kind": type(broker).__name__}
    if jobs.is_in_process_broker():
        result["embedded_worker"] = jobs.embedded_worker_alive()
        result["ok"] = result["embedded_worker"] or not deep
    else:
        broker.client.ping()
    if deep:
        # Round trip through a real worker: enqueue a job and wait for its mark.
        from .tasks import healthcheck_ping

        token = uuid.uuid4().hex
        healthcheck_ping.send(token)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and cache.get(f"healthz:{token}") is None:
            time.sleep(0.05)
        result["worker_round_trip"] = cache.get(f"healthz:{token}") == "ok"
        result["ok"] = result["ok"] and result["worker_round_trip"]
    return result


def _check_channel_layer() -> dict:
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.send)(channel, {"type": "health.ping"})
    message = async_to_sync(layer.receive)(channel)
    return {"ok": message.get("type") == "health.ping", "kind": type(layer).__name__}


def healthz(request):
    deep = request.GET.get("deep") in ("1", "true", "yes")
    checks = {}
    for name, check in (
        ("database", _check_database),
        ("broker", lambda: _check_broker(deep)),
        ("channel_layer", _check_channel_layer),
    ):
        try:
            checks[name] = check()
        except Exception as exc:  # report, never 500: this endpoint exists to say what is down
            checks[name] = {"ok": False, "error": f"{type(exc).__name__}: {exc}"[:300]}
    healthy = all(c["ok"] for c in checks.values())
    return JsonResponse({"status": "ok" if healthy else "degraded", "checks": checks}, status=200 if healthy else 503)
