"""Client webhooks: HMAC-signed POSTs on task.accepted and project.completed, retried with backoff by a job.

Each business event creates at most one WebhookDelivery (unique event key),
enqueued after commit; the dramatiq actor retries with exponential backoff.
The signature is `X-Coop-Signature: sha256=<hex HMAC of the raw body>` with
the project's webhook secret (shown to the client once at project creation).

A webhook URL is the client's to choose, so it must never make the platform
reach inside its own network (SSRF). Loopback, private, link-local (cloud
metadata at 169.254.169.254 included), shared, multicast and reserved
addresses are refused, when the URL is saved and again at every delivery
after resolving the name; the connection goes to the address that was
checked (a name re-pointed between check and connect, "DNS rebinding",
cannot switch it), and redirects are never followed. Internal receivers are
allowed by name or network in the WEBHOOK_ALLOWED_HOSTS setting.

A `task.accepted` delivery carries a label, so it is a release of labelled
data: at delivery it passes the project's data-use agreement like an export
(services/exports.py), and is marked failed, not retried, when refused.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import ipaddress
import json
import socket
from urllib.parse import urlsplit

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from coop.errors import ApplicationError
from coop.jobs import enqueue_on_commit
from marketplace.error_codes import MarketplaceErrorCode

from ..models import Project, WebhookDelivery
from .exports import webhook_release_check

# Events whose payload carries labelled data: they leave only while the project's DUA allows a release.
LABEL_EVENTS = frozenset({"task.accepted"})

TIMEOUT_SECONDS = 10
# Names that always mean "this machine" or a cloud metadata service, whatever DNS says.
INTERNAL_NAMES = ("localhost", "metadata", "metadata.google.internal", "instance-data", "instance-data.ec2.internal")


class WebhookTargetRefused(Exception):
    """The URL points somewhere the platform must not send requests to."""


def _allow_list() -> tuple[set[str], list]:
    names, networks = set(), []
    for entry in getattr(settings, "WEBHOOK_ALLOWED_HOSTS", []) or []:
        entry = str(entry).strip().lower()
        if not entry:
            continue
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            names.add(entry.rstrip("."))
    return names, networks


def _literal_address(host: str):
    """The address a host literal stands for, in any spelling the resolver accepts ("127.1", "0x7f000001")."""
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    try:
        return ipaddress.ip_address(socket.inet_aton(host))  # no network: parses numeric IPv4 forms only
    except OSError:
        return None


def _address_refusal(address) -> str | None:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    _, networks = _allow_list()
    if any(address in network for network in networks):
        return None
    if address.is_loopback:
        return "a loopback address"
    if address.is_link_local:
        return "a link-local address (cloud metadata lives there)"
    if address.is_private:
        return "a private-network address"
    if address.is_multicast or address.is_unspecified or address.is_reserved or not address.is_global:
        return "a reserved address"
    return None


def _parsed(url: str):
    parts = urlsplit(url or "")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise WebhookTargetRefused("Webhook URLs must be http:// or https:// with a host.")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise WebhookTargetRefused("The webhook URL has an invalid port.") from None
    return parts, parts.hostname.lower().rstrip("."), port


def _name_refusal(host: str) -> str | None:
    names, _ = _allow_list()
    if host in names:
        return None
    if host in INTERNAL_NAMES or host.endswith(".localhost"):
        return "an internal host name"
    literal = _literal_address(host)
    if literal is not None:
        return _address_refusal(literal)
    return None


def webhook_url_check(url: str) -> None:
    """Refuse a webhook URL whose host is internal on its face (run when a client saves it).

    Names are resolved at delivery, not here: DNS can change after saving, so
    the delivery check is the one that counts.
    """
    if not url:
        return
    try:
        _, host, _ = _parsed(url)
        refusal = _name_refusal(host)
    except WebhookTargetRefused as exc:
        raise ApplicationError(str(exc), code=MarketplaceErrorCode.WEBHOOK_URL_REFUSED, fields={"webhook_url": [str(exc)]}) from None
    if refusal:
        message = f"Webhooks cannot be sent to {refusal} ({host})."
        raise ApplicationError(message, code=MarketplaceErrorCode.WEBHOOK_URL_REFUSED, fields={"webhook_url": [message]})


def _checked_address(host: str, port: int) -> str:
    """Resolve the host and return an address to connect to; every address it resolves to must pass."""
    refusal = _name_refusal(host)
    if refusal:
        raise WebhookTargetRefused(f"{host} is {refusal}")
    names, _ = _allow_list()
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise OSError(f"cannot resolve {host}: {exc}") from None
    addresses = [info[4][0] for info in infos]
    if host not in names:
        for address in addresses:
            refusal = _address_refusal(ipaddress.ip_address(address.split("%")[0]))
            if refusal:
                raise WebhookTargetRefused(f"{host} resolves to {refusal} ({address})")
    return addresses[0]


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to the checked address; the Host header still names the client's host."""

    def __init__(self, host, port, *, address, timeout):
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self):
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, host, port, *, address, timeout):
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self):
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


def _post(url: str, body: bytes, headers: dict) -> int:
    """POST once to the checked address; never follows a redirect. Returns the HTTP status."""
    parts, host, port = _parsed(url)
    address = _checked_address(host, port)
    connection_class = _PinnedHTTPSConnection if parts.scheme == "https" else _PinnedHTTPConnection
    connection = connection_class(host, port, address=address, timeout=TIMEOUT_SECONDS)
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    try:
        connection.request("POST", path, body=body, headers=headers)
        return connection.getresponse().status
    finally:
        connection.close()


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
    enqueue_on_commit("deliver_webhook", delivery.pk, on_failure="webhook_failed")
    return delivery


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def webhook_deliver(*, delivery_id: int) -> bool:
    """POST one delivery. Returns True when delivered (or already delivered), False when the target is
    refused (marked failed: retrying cannot help); raises to make the job retry."""
    delivery = WebhookDelivery.objects.select_related("project").get(pk=delivery_id)
    if delivery.status == WebhookDelivery.Status.DELIVERED:
        return True
    if delivery.event in LABEL_EVENTS:
        try:
            webhook_release_check(project=delivery.project)
        except ApplicationError as exc:
            WebhookDelivery.objects.filter(pk=delivery.pk).exclude(status=WebhookDelivery.Status.DELIVERED).update(
                status=WebhookDelivery.Status.FAILED, last_error=f"refused by the data-use agreement ({exc.code}): {exc.message}"[:500]
            )
            return False
    body = json.dumps(delivery.payload, sort_keys=True, separators=(",", ":")).encode()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "DataCoop-Webhooks/1",
        "X-Coop-Event": delivery.event,
        "X-Coop-Delivery": str(delivery.pk),
        "X-Coop-Signature": sign(delivery.project.webhook_secret, body),
    }
    # Atomic increment: a retry and a resend running at once both count.
    WebhookDelivery.objects.filter(pk=delivery.pk).update(attempts=F("attempts") + 1)
    try:
        status = _post(delivery.project.webhook_url, body, headers)
    except WebhookTargetRefused as exc:
        WebhookDelivery.objects.filter(pk=delivery.pk).exclude(status=WebhookDelivery.Status.DELIVERED).update(
            status=WebhookDelivery.Status.FAILED, last_error=f"refused: {exc}"[:500]
        )
        return False
    except (OSError, http.client.HTTPException) as exc:
        WebhookDelivery.objects.filter(pk=delivery.pk).update(last_error=str(exc)[:500] or type(exc).__name__)
        raise
    if 200 <= status < 300:
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            status=WebhookDelivery.Status.DELIVERED, response_status=status, delivered_at=timezone.now(), last_error=""
        )
        return True
    error = f"HTTP {status} (redirects are not followed)" if 300 <= status < 400 else f"HTTP {status}"
    WebhookDelivery.objects.filter(pk=delivery.pk).update(response_status=status, last_error=error)
    raise RuntimeError(f"webhook answered {error}")


def webhook_give_up(*, delivery_id: int) -> None:
    WebhookDelivery.objects.filter(pk=delivery_id).exclude(status=WebhookDelivery.Status.DELIVERED).update(
        status=WebhookDelivery.Status.FAILED
    )
