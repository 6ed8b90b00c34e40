from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from coop import services
from coop.errors import Forbidden
from coop.models import ApiToken
from tests import factories


@pytest.mark.django_db
class TestApiTokens:
    def test_token_is_shown_once_and_stored_hashed(self, organization, api_client):
        issued = services.api_token_create(actor=None, organization=organization, name="pipeline")
        row = ApiToken.objects.get(pk=issued.token.pk)
        assert issued.plaintext.startswith("coop_")
        assert issued.plaintext not in (row.digest, row.prefix, row.name)
        assert row.prefix in issued.plaintext and len(row.digest) == 64

        api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {issued.plaintext}")
        response = api_client.get("/api/v1/organization/")
        assert response.status_code == 200
        assert response.json()["slug"] == "acme-labs"
        row.refresh_from_db()
        assert row.last_used_at is not None

    def test_revoked_and_expired_tokens_are_refused(self, organization, steward, api_client):
        issued = services.api_token_create(actor=steward, organization=organization, name="old")
        services.api_token_revoke(actor=steward, token=issued.token)
        api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {issued.plaintext}")
        response = api_client.get("/api/v1/me/")
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "authentication_failed"

        expiring = services.api_token_create(
            actor=steward, organization=organization, name="short", expires_at=timezone.now() + timedelta(seconds=60)
        )
        ApiToken.objects.filter(pk=expiring.token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
        api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {expiring.plaintext}")
        assert api_client.get("/api/v1/me/").status_code == 401

    def test_malformed_authorization_header(self, api_client, db):
        api_client.credentials(HTTP_AUTHORIZATION="Bearer a b")
        response = api_client.get("/api/v1/me/")
        assert response.status_code == 401
        assert "Malformed" in response.json()["error"]["message"]

    def test_only_stewards_and_org_admins_create_org_tokens(self, organization, member):
        with pytest.raises(Forbidden):
            services.api_token_create(actor=member, organization=organization, name="x")
        other_admin = factories.make_client_user(factories.make_organization("Other Co"))
        with pytest.raises(Forbidden):
            services.api_token_create(actor=other_admin, organization=organization, name="x")
        own_admin = factories.make_client_user(organization)
        assert services.api_token_create(actor=own_admin, organization=organization, name="mine").token.organization == organization

    def test_personal_tokens_are_for_members(self, applicant, member, api_client):
        with pytest.raises(Forbidden):
            services.api_token_create(actor=applicant, user=applicant, name="x")
        issued = services.api_token_create(actor=member, user=member, name="worker script")
        api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {issued.plaintext}")
        body = api_client.get("/api/v1/me/").json()
        assert body["role"] == "member" and body["email"] == member.email
        # A member's token cannot reach client APIs.
        assert api_client.get("/api/v1/organization/").status_code == 403

    def test_a_token_made_before_its_member_became_a_steward_needs_their_mfa(self, member, api_client):
        """The portal sends a steward without two-factor authentication to set it up; a personal token issued while
        they were a plain member must not carry steward powers around that."""
        from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

        issued = services.api_token_create(actor=member, user=member, name="worker script")
        api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {issued.plaintext}")
        assert api_client.get("/api/v1/me/").status_code == 200
        services.membership_steward_set(membership=member.membership, actor=None, is_steward=True)
        refused = api_client.get("/api/v1/me/")
        assert refused.status_code == 403 and refused.json()["error"]["code"] == "mfa_required"
        TOTP.activate(member, generate_totp_secret())
        assert api_client.get("/api/v1/me/").json()["role"] == "steward"

    def test_personal_token_api_create_list_revoke(self, member_api, member):
        response = member_api.post("/api/v1/tokens/", {"name": "cli"}, format="json")
        assert response.status_code == 201
        secret = response.json()["token"]
        listed = member_api.get("/api/v1/tokens/").json()
        assert [t["name"] for t in listed] == ["cli"] and "token" not in listed[0]
        token_id = response.json()["id"]
        assert member_api.post(f"/api/v1/tokens/{token_id}/revoke/").json()["is_active"] is False
        assert services.api_token_authenticate(secret) is None

    def test_token_name_is_validated(self, member_api):
        response = member_api.post("/api/v1/tokens/", {"name": ""}, format="json")
        assert response.status_code == 400
        body = response.json()["error"]
        assert body["code"] == "invalid" and "name" in body["fields"]

    def test_issue_api_token_command(self, organization, member, capsys):
        call_command("issue_api_token", "--org", organization.name)
        org_secret = capsys.readouterr().out.strip()
        assert services.api_token_authenticate(org_secret).organization == organization
        call_command("issue_api_token", "--user", member.email)
        user_secret = capsys.readouterr().out.strip()
        assert services.api_token_authenticate(user_secret).user == member

    def test_issue_api_token_command_errors(self, db):
        from django.core.management.base import CommandError

        with pytest.raises(CommandError, match="No organization"):
            call_command("issue_api_token", "--org", "Nope Inc")
        with pytest.raises(CommandError, match="No user"):
            call_command("issue_api_token", "--user", "ghost@example.org")
