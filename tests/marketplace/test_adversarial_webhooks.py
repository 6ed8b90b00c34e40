"""SSRF through webhooks and the deep health check, tried as an attacker would.

A client picks its webhook URL; the attacker picks one that reaches inside the
co-op's network: loopback, the cloud metadata service, a private range, an
odd spelling of 127.0.0.1, a public name that resolves to a private address,
or a public receiver that redirects inward. Nothing here uses the network:
receivers are local HTTP servers, allowed explicitly, and DNS answers are
replaced where the test is about what a name resolves to.
"""

import socket
from http.server import BaseHTTPRequestHandler

import pytest
from django.db.models import F

from coop.errors import ApplicationError
from coop.services.tokens import api_token_create
from marketplace.models import Project, WebhookDelivery
from marketplace.services import projects, webhooks
from tests import factories
from tests.http_receiver import serving

pytestmark = pytest.mark.django_db

INTERNAL_URLS = [
    "http://127.0.0.1:8000/admin/",
    "http://localhost/hook",
    "http://api.localhost/hook",
    "http://169.254.169.254/latest/meta-data/iam/",
    "http://metadata.google.internal/computeMetadata/v1/",
    "http://10.0.0.5/hook",
    "http://192.168.1.1/hook",
    "http://172.16.0.1/hook",
    "http://100.64.0.1/hook",  # carrier-grade NAT, not public either
    "http://[::1]/hook",
    "http://[::ffff:127.0.0.1]/hook",
    "http://[fd00:ec2::254]/latest/meta-data/",  # AWS metadata over IPv6
    "http://2130706433/hook",  # 127.0.0.1 as one number
    "http://0x7f.1/hook",
    "http://127.1/hook",
    "http://0.0.0.0:5432/",
    "gopher://example.org/",
    "file:///etc/passwd",
]


@pytest.mark.parametrize("url", INTERNAL_URLS)
def test_adversarial_a_client_cannot_save_an_internal_webhook_url(url):
    organization = factories.make_organization()
    with pytest.raises(ApplicationError) as refused:
        factories.make_project(organization, publish=False, tasks=0, webhook_url=url)
    assert "webhook_url" in refused.value.fields
    assert not Project.objects.filter(organization=organization).exists()


def test_adversarial_an_internal_url_cannot_be_slipped_in_by_an_update():
    project = factories.make_project(publish=False, tasks=0, webhook_url="https://hooks.client.example/coop")
    with pytest.raises(ApplicationError) as refused:
        projects.project_update(project=project, webhook_url="http://169.254.169.254/latest/meta-data/")
    assert refused.value.fields["webhook_url"]
    assert Project.objects.get(pk=project.pk).webhook_url == "https://hooks.client.example/coop"


def _delivery(url: str) -> WebhookDelivery:
    project = factories.make_project(tasks=1, webhook_url="https://hooks.client.example/coop")
    Project.objects.filter(pk=project.pk).update(webhook_url=url)
    return WebhookDelivery.objects.create(project=project, event="task.accepted", event_key="t1", payload={"event": "task.accepted"})


def test_adversarial_a_public_name_resolving_to_a_private_address_is_refused_at_delivery(monkeypatch):
    delivery = _delivery("http://rebind.client.example/hook")
    connects = []
    monkeypatch.setattr(socket, "getaddrinfo", lambda *a, **k: [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.1.2.3", 80))])
    monkeypatch.setattr(socket, "create_connection", lambda *a, **k: connects.append(a))
    assert webhooks.webhook_deliver(delivery_id=delivery.pk) is False
    delivery.refresh_from_db()
    assert delivery.status == "failed" and "private" in delivery.last_error and delivery.attempts == 1
    assert connects == []  # not even a connection attempt


def test_adversarial_one_private_answer_among_public_ones_is_refused(monkeypatch):
    delivery = _delivery("http://mixed.client.example/hook")
    answers = [
        (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.216.34", 80)),
        (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("169.254.169.254", 80)),
    ]
    monkeypatch.setattr(socket, "getaddrinfo", lambda *a, **k: answers)
    assert webhooks.webhook_deliver(delivery_id=delivery.pk) is False
    assert "link-local" in WebhookDelivery.objects.get(pk=delivery.pk).last_error


class _Redirector(BaseHTTPRequestHandler):
    hits: list = []

    def do_POST(self):  # noqa: N802
        _Redirector.hits.append(self.path)
        self.rfile.read(int(self.headers["Content-Length"]))
        if self.path == "/hook":
            self.send_response(307)
            self.send_header("Location", "http://169.254.169.254/latest/meta-data/")
        else:
            self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def redirector():
    _Redirector.hits = []
    with serving(_Redirector) as server:
        yield server


def test_adversarial_a_redirect_inward_is_not_followed(redirector, settings):
    settings.WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]  # the test receiver stands in for the client's public one
    delivery = _delivery(f"http://127.0.0.1:{redirector.server_port}/hook")
    with pytest.raises(RuntimeError, match="307"):
        webhooks.webhook_deliver(delivery_id=delivery.pk)
    delivery.refresh_from_db()
    assert _Redirector.hits == ["/hook"] and delivery.status == "pending"
    assert "redirects are not followed" in delivery.last_error


def test_allow_listed_internal_receiver_gets_its_webhook_and_attempts_add_up(redirector, settings):
    settings.WEBHOOK_ALLOWED_HOSTS = ["127.0.0.0/8"]
    delivery = _delivery(f"http://127.0.0.1:{redirector.server_port}/ok")
    # Another process counted an attempt meanwhile: the count is incremented in the database, not overwritten.
    WebhookDelivery.objects.filter(pk=delivery.pk).update(attempts=F("attempts") + 1)
    assert webhooks.webhook_deliver(delivery_id=delivery.pk) is True
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.response_status) == ("delivered", 2, 204)


def test_without_the_allow_list_the_same_receiver_is_refused(redirector):
    delivery = _delivery(f"http://127.0.0.1:{redirector.server_port}/ok")
    assert webhooks.webhook_deliver(delivery_id=delivery.pk) is False
    assert _Redirector.hits == []
    assert "loopback" in WebhookDelivery.objects.get(pk=delivery.pk).last_error


class TestDeepHealthCheck:
    def test_adversarial_anyone_cannot_tie_up_workers_with_deep_checks(self, client, member):
        token = api_token_create(actor=member, user=member, name="mine").plaintext
        assert client.get("/healthz?deep=1").status_code == 403
        assert client.get("/healthz?deep=1", HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 403
        assert client.get("/healthz?deep=1", HTTP_X_HEALTHZ_SECRET="guess").status_code == 403
        assert client.get("/healthz").status_code == 200

    def test_a_configured_secret_or_a_steward_token_may(self, client, steward, settings, monkeypatch):
        from coop import health

        monkeypatch.setattr(health, "_check_broker", lambda deep: {"ok": True, "deep": deep})
        settings.HEALTHZ_SECRET = "s3cret-for-the-monitor"
        ok = client.get("/healthz?deep=1", HTTP_X_HEALTHZ_SECRET="s3cret-for-the-monitor")
        assert ok.status_code == 200 and ok.json()["checks"]["broker"]["deep"] is True
        token = api_token_create(actor=steward, user=steward, name="monitor").plaintext
        assert client.get("/healthz?deep=1", HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 200

    def test_adversarial_failures_never_leak_exception_text(self, client, monkeypatch):
        from coop import health

        def broken():
            raise ConnectionError("could not connect to postgres://coop:hunter2@10.0.0.7:5432/coop")

        monkeypatch.setattr(health, "_check_database", broken)
        response = client.get("/healthz")
        assert response.status_code == 503
        assert response.json()["checks"]["database"] == {"ok": False, "error": "unavailable"}
        assert b"hunter2" not in response.content and b"10.0.0.7" not in response.content
