"""Client webhooks: HMAC-signed POSTs on task.accepted and project.completed, retried with backoff by a job.

Each business event creates at most one WebhookDelivery (unique event key),
enqueued after commit; the dramatiq actor retries with exponential backoff.
The signature is `X-Coop-Signature: sha256=<hex HMAC of the raw body>` with
the project's webhook secret (shown to the client once at project creation).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import urllib.error
import urllib.request

from django.db import IntegrityError, transaction
from django.utils import timezone

from ..models import Project, WebhookDelivery

TIMEOUT_SECONDS = 10


def webhook_enqueue(*, project: Project, event: str, event_key: str, payload: dict) -> WebhookDelivery | None:
    if not project.webhook_url:
        return None
    try:
        with transaction.atomic():
            delivery = WebhookDelivery.objects.create(
                project=project, event=event, event_key=event_key, payload={"event": event, "project_id": project.pk, **payload}
            )
    except IntegrityError:
        return None  # this event was already queued
    from ..tasks import deliver_webhook, webhook_failed

    transaction.on_commit(lambda: deliver_webhook.send_with_options(args=(delivery.pk,), on_failure=webhook_failed))
    return delivery


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def webhook_deliver(*, delivery_id: int) -> bool:
    """POST one delivery. Returns True when delivered (or already delivered); raises to make the job retry."""
    delivery = WebhookDelivery.objects.select_related("project").get(pk=delivery_id)
    if delivery.status == WebhookDelivery.Status.DELIVERED:
        return True
    body = json.dumps(delivery.payload, sort_keys=True, separators=(",", ":")).encode()
    request = urllib.request.Request(
        delivery.project.webhook_url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "User-Agent": "DataCoop-Webhooks/1",
            "X-Coop-Event": delivery.event,
            "X-Coop-Delivery": str(delivery.pk),
            "X-Coop-Signature": sign(delivery.project.webhook_secret, body),
        },
    )
    WebhookDelivery.objects.filter(pk=delivery.pk).update(attempts=delivery.attempts + 1)
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
            status = response.status
    except urllib.error.HTTPError as exc:
        status = exc.code
    except (urllib.error.URLError, OSError) as exc:
        WebhookDelivery.objects.filter(pk=delivery.pk).update(last_error=str(exc)[:500])
        raise
    if 200 <= status < 300:
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            status=WebhookDelivery.Status.DELIVERED, response_status=status, delivered_at=timezone.now(), last_error=""
        )
        return True
    WebhookDelivery.objects.filter(pk=delivery.pk).update(response_status=status, last_error=f"HTTP {status}")
    raise RuntimeError(f"webhook answered HTTP {status}")


def webhook_give_up(*, delivery_id: int) -> None:
    WebhookDelivery.objects.filter(pk=delivery_id).exclude(status=WebhookDelivery.Status.DELIVERED).update(
        status=WebhookDelivery.Status.FAILED
    )
