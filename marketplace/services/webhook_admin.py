"""What a client does with its project's webhook: resend a failed delivery, rotate the signing secret.

Delivery itself (signing, retries, giving up) stays in services/webhooks.py;
these only reset a delivery for another round or replace the secret.
"""

from __future__ import annotations

import secrets

from django.db import transaction

from coop.errors import ApplicationError, Conflict, NotFound
from coop.jobs import enqueue_on_commit
from marketplace.error_codes import MarketplaceErrorCode

from ..models import Project, WebhookDelivery


@transaction.atomic
def webhook_resend(*, project: Project, delivery_id: int) -> WebhookDelivery:
    """Queue a failed delivery of this project again (same payload, same event key, signed with the current secret).

    A delivery still pending is already being retried and one delivered is not
    sent twice: both are refused. A delivery of another project is not found.
    """
    delivery = WebhookDelivery.objects.select_for_update().filter(pk=delivery_id, project=project).first()
    if delivery is None:
        raise NotFound("No such webhook delivery.")
    if delivery.status != WebhookDelivery.Status.FAILED:
        raise Conflict(
            f"Only failed deliveries can be resent; this one is {delivery.get_status_display().lower()}.", code=MarketplaceErrorCode.NOT_FAILED
        )
    if not Project.objects.filter(pk=project.pk).exclude(webhook_url="").exists():
        raise ApplicationError("The project has no webhook URL.", code=MarketplaceErrorCode.NO_WEBHOOK_URL)
    delivery.status = WebhookDelivery.Status.PENDING
    delivery.last_error = ""
    delivery.save(update_fields=["status", "last_error"])
    enqueue_on_commit("deliver_webhook", delivery.pk, on_failure="webhook_failed")
    return delivery


@transaction.atomic
def webhook_secret_rotate(*, project: Project) -> str:
    """Replace the project's webhook secret; returns the new one (shown to the client once). Locks the project row."""
    project = Project.objects.select_for_update().get(pk=project.pk)
    if not project.webhook_url:
        raise ApplicationError("Set a webhook URL first.", code=MarketplaceErrorCode.NO_WEBHOOK_URL)
    project.webhook_secret = secrets.token_hex(32)
    project.save(update_fields=["webhook_secret", "updated_at"])
    return project.webhook_secret
