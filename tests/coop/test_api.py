"""The API's error shape, roles and schema."""

import re

import pytest
from django.test import RequestFactory
from rest_framework.exceptions import Throttled

from coop.errors import ApplicationError, api_exception_handler, json_or_html_500


@pytest.mark.django_db
class TestErrorShape:
    def test_unauthenticated(self, api_client):
        response = api_client.get("/api/v1/me/")
        assert response.status_code == 401
        assert response.json() == {
            "error": {"code": "not_authenticated", "message": "Authentication credentials were not provided.", "fields": {}}
        }
        assert response["WWW-Authenticate"] == "Bearer"

    def test_unknown_api_path_is_json_404(self, api_client):
        response = api_client.get("/api/v1/does-not-exist/")
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "not_found"

    def test_wrong_method(self, member_api):
        response = member_api.delete("/api/v1/me/")
        assert response.status_code == 405
        assert response.json()["error"]["code"] == "method_not_allowed"

    def test_validation_errors_list_fields(self, member_api):
        response = member_api.post("/api/v1/notifications/read/", {"ids": ["x", -1]}, format="json")
        assert response.status_code == 400
        error = response.json()["error"]
        assert error["code"] == "invalid" and any(key.startswith("ids") for key in error["fields"])

    def test_malformed_json(self, member_api):
        response = member_api.generic("POST", "/api/v1/tokens/", "{not json", content_type="application/json")
        assert response.status_code == 400
        assert response.json()["error"]["code"] == "parse_error"

    def test_role_forbidden(self, org_api):
        response = org_api.get("/api/v1/tokens/")
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "permission_denied"

    def test_application_error_and_unexpected_errors(self):
        response = api_exception_handler(ApplicationError("Pay too low", code="below_floor", fields={"pay": ["x"]}), {})
        assert response.status_code == 422
        assert response.data == {"error": {"code": "below_floor", "message": "Pay too low", "fields": {"pay": ["x"]}}}
        response = api_exception_handler(RuntimeError("boom"), {})
        assert response.status_code == 500 and response.data["error"]["code"] == "server_error"
        assert "boom" not in response.data["error"]["message"]
        throttled = api_exception_handler(Throttled(wait=3), {})
        assert throttled.status_code == 429 and throttled.data["error"]["code"] == "throttled"

    def test_server_error_page_is_json_under_api(self):
        request = RequestFactory().get("/api/v1/anything/")
        response = json_or_html_500(request)
        assert response.status_code == 500 and response["Content-Type"] == "application/json"


@pytest.mark.django_db
class TestMeAndNotifications:
    def test_me_for_each_role(self, api_client, member, client_user, applicant):
        api_client.force_authenticate(member)
        assert api_client.get("/api/v1/me/").json()["membership"]["status"] == "active"
        api_client.force_authenticate(client_user)
        body = api_client.get("/api/v1/me/").json()
        assert body["role"] == "client" and body["organization"]["slug"] == client_user.organization.slug
        api_client.force_authenticate(applicant)
        assert api_client.get("/api/v1/me/").json()["role"] == "applicant"

    def test_notifications_list_and_mark_read(self, member_api, member):
        from coop.services import notification_send

        member.notifications.all().delete()
        first = notification_send(user=member, kind="t", title="One")
        notification_send(user=member, kind="t", title="Two")
        assert [n["title"] for n in member_api.get("/api/v1/notifications/?unread=1").json()["results"]] == ["Two", "One"]
        assert member_api.post("/api/v1/notifications/read/", {"ids": [first.pk]}, format="json").json() == {"marked": 1}
        assert [n["title"] for n in member_api.get("/api/v1/notifications/?unread=1").json()["results"]] == ["Two"]


@pytest.mark.django_db
def test_openapi_schema_and_docs(client):
    response = client.get("/api/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    schema = response.json()
    assert {"/api/v1/me/", "/api/v1/projects/", "/api/v1/work/next/"} <= set(schema["paths"])
    assert schema["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    docs = client.get("/api/docs/").content.decode()
    # No asset from a CDN: every src/href is local (a random CSRF token on the page may spell "cdn").
    assert "swagger-ui" in docs and not re.search(r"""(?:src|href)\s*=\s*["'][^"']*cdn""", docs, re.IGNORECASE)
