"""GET /healthz: database, broker and channel-layer status as JSON (503 if any is down).

`?deep=1` also round-trips a job through a worker, which costs a queue slot
and up to five seconds of a web process: anyone could use it to tie the site
up, so it needs a steward (session or API token) or the HEALTHZ_SECRET
setting sent as `X-Healthz-Secret`. Failures say which service is down,
never the exception's text (it can carry host names, ports and credentials);
the text goes to the log.
"""

from __future__ import annotations

import hmac
import logging
import time
import uuid

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import JsonResponse

from . import jobs
from .error_codes import CoopErrorCode
from .errors import error_body

logger = logging.getLogger(__name__)


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


def _may_run_deep_checks(request) -> bool:
    secret = getattr(settings, "HEALTHZ_SECRET", "")
    sent = request.headers.get("X-Healthz-Secret", "")
    if secret and sent and hmac.compare_digest(secret.encode(), sent.encode()):
        return True
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated and getattr(user, "is_steward", False):
        return True
    header = request.headers.get("Authorization", "")
    if header[:7].lower() == "bearer ":
        from .services.tokens import api_token_authenticate

        try:
            token = api_token_authenticate(header[7:].strip())
        except Exception:  # the database being down is what this endpoint reports, not a 500
            logger.exception("health check could not read the token")
            return False
        return bool(token is not None and token.user_id and token.user.is_active and token.user.is_steward)
    return False


def healthz(request):
    deep = request.GET.get("deep") in ("1", "true", "yes")
    if deep and not _may_run_deep_checks(request):
        return JsonResponse(
            error_body(CoopErrorCode.DEEP_CHECK_FORBIDDEN, "Deep checks need a steward's token or the X-Healthz-Secret header."), status=403
        )
    checks = {}
    for name, check in (
        ("database", _check_database),
        ("broker", lambda: _check_broker(deep)),
        ("channel_layer", _check_channel_layer),
    ):
        try:
            checks[name] = check()
        except Exception:  # report, never 500: this endpoint exists to say what is down
            logger.exception("health check %s failed", name)
            checks[name] = {"ok": False, "error": "unavailable"}
    healthy = all(c["ok"] for c in checks.values())
    return JsonResponse({"status": "ok" if healthy else "degraded", "checks": checks}, status=200 if healthy else 503)
