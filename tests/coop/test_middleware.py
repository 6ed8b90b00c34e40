"""coop.middleware: the portal's per-request work (MFA gate, member time zone, messages) and the token API calls
that skip it because they carry no session."""

import pytest
from django.conf import settings
from django.http import HttpResponse
from django.test import RequestFactory
from rest_framework.test import APIClient

from coop import services
from coop.middleware import MessageMiddleware, is_token_api_request
from marketplace.services import claiming, submission
from tests import factories

pytestmark = pytest.mark.django_db


def test_only_a_token_api_call_without_a_session_cookie_skips_the_portals_work():
    factory = RequestFactory()
    bearer = {"HTTP_AUTHORIZATION": "Bearer coop_abc_secret"}
    assert is_token_api_request(factory.post("/api/v1/work/next/", **bearer))
    with_session = factory.post("/api/v1/work/next/", **bearer)
    with_session.COOKIES[settings.SESSION_COOKIE_NAME] = "abc"
    assert not is_token_api_request(with_session)
    assert not is_token_api_request(factory.get("/dashboard/", **bearer))
    assert not is_token_api_request(factory.get("/api/v1/me/"))
    assert not is_token_api_request(factory.get("/api/v1/me/", HTTP_AUTHORIZATION="Basic dXNlcjpwYXNz"))


def test_a_steward_without_mfa_cannot_pass_the_gate_by_adding_a_bearer_header(client):
    steward = factories.make_steward(with_totp=False)
    client.force_login(steward)
    token = services.api_token_create(actor=None, organization=factories.make_organization(), name="any").plaintext
    response = client.get("/api/v1/me/", HTTP_AUTHORIZATION=f"Bearer {token}")  # the session cookie is sent too
    assert response.status_code == 403 and response.json()["error"]["code"] == "mfa_required"


def test_messages_are_stored_for_the_portal_and_not_built_for_token_calls():
    seen = {}

    def view(request):
        seen["storage"] = hasattr(request, "_messages")
        return HttpResponse()

    middleware = MessageMiddleware(view)
    factory = RequestFactory()
    portal = factory.get("/dashboard/")
    from django.contrib.sessions.backends.db import SessionStore

    portal.session = SessionStore()
    middleware(portal)
    assert seen["storage"] is True
    middleware(factory.post("/api/v1/work/next/", HTTP_AUTHORIZATION="Bearer coop_abc_secret"))
    assert seen["storage"] is False


def test_token_calls_answer_in_utc_whatever_the_members_time_zone():
    member = factories.make_member(timezone_name="Africa/Nairobi")
    project = factories.make_project(tasks=1)
    lease = claiming.work_next(worker=member, project=project).assignment
    submission.assignment_submit(worker=member, assignment_id=lease.pk, payload={"text": "ab12"}, idempotency_key="k")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {services.api_token_create(actor=member, user=member, name='t').plaintext}")
    submitted_at = api.get("/api/v1/work/submissions/").json()["results"][0]["submitted_at"]
    assert submitted_at.endswith("Z") or submitted_at.endswith("+00:00"), submitted_at
