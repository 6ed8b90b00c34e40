"""The governance API: members' proposals and votes, clients' own contracts and DUAs, the schema, the error shape."""

import pytest
from rest_framework.test import APIClient

from governance import services
from governance.models import Vote
from tests import factories

from .helpers import close, contract_terms, motion

pytestmark = pytest.mark.django_db


def api_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


class TestMemberApi:
    def test_list_filters_and_query_count(self, steward, member_api, django_assert_max_num_queries):
        for n in range(5):
            motion(steward, title=f"Motion {n}")
        with django_assert_max_num_queries(4):
            body = member_api.get("/api/v1/proposals/?status=open").json()
        assert body["count"] == 5 and {p["kind"] for p in body["results"]} == {"general_motion"}
        assert member_api.get("/api/v1/proposals/?status=closed").json()["count"] == 0

    def test_vote_change_and_idempotence(self, steward, member, member_api):
        proposal = motion(steward)
        url = f"/api/v1/proposals/{proposal.pk}/vote/"
        first = member_api.post(url, {"choice": "no"}, format="json")
        assert first.status_code == 200 and first.json()["vote"]["revision"] == 1
        changed = member_api.post(url, {"choice": "yes", "reason": "New facts"}, format="json").json()
        assert changed["changed"] and changed["vote"]["revision"] == 2
        assert [h["choice"] for h in changed["vote"]["history"]] == ["no", "yes"]
        again = member_api.post(url, {"choice": "yes", "reason": "New facts"}, format="json").json()
        assert again["recorded"] is False and again["vote"]["revision"] == 2
        detail = member_api.get(f"/api/v1/proposals/{proposal.pk}/").json()
        assert detail["my_vote"]["choice"] == "yes" and detail["eligibility"]["eligible"] and detail["results"] is None
        assert Vote.objects.filter(proposal=proposal).count() == 1

    def test_results_hidden_then_shown(self, steward, member, member_api):
        proposal = motion(steward)
        member_api.post(f"/api/v1/proposals/{proposal.pk}/vote/", {"choice": "yes"}, format="json")
        hidden = member_api.get(f"/api/v1/proposals/{proposal.pk}/results/")
        assert hidden.status_code == 403 and hidden.json()["error"]["code"] == "results_hidden"
        close(proposal)
        shown = member_api.get(f"/api/v1/proposals/{proposal.pk}/results/").json()
        assert shown["final"] and shown["outcome"] == "passed" and shown["results"]["counts"]["yes"] == 1

    def test_live_results_when_visible(self, steward, member_api):
        proposal = motion(steward, results_hidden=False)
        member_api.post(f"/api/v1/proposals/{proposal.pk}/vote/", {"choice": "abstain"}, format="json")
        body = member_api.get(f"/api/v1/proposals/{proposal.pk}/results/").json()
        assert body["final"] is False and body["results"]["counts"]["abstain"] == 1

    def test_score_and_ranking_votes(self, steward, member, member_api):
        pay = services.proposal_create(actor=steward, kind="pay_floor_change", title="Pay")
        assert member_api.post(f"/api/v1/proposals/{pay.pk}/vote/", {"score": "22.50"}, format="json").status_code == 200
        bad = member_api.post(f"/api/v1/proposals/{pay.pk}/vote/", {"score": "9999"}, format="json")
        assert bad.status_code == 422 and bad.json()["error"]["fields"] == {"score": ["Give a number between 1 and 500."]}

    def test_errors_have_the_project_shape(self, steward, member_api, org_api, api_client):
        proposal = motion(steward)
        late = factories.make_member()
        response = api_for(late).post(f"/api/v1/proposals/{proposal.pk}/vote/", {"choice": "yes"}, format="json")
        assert response.status_code == 403 and response.json()["error"]["code"] == "not_eligible"
        response = member_api.post(f"/api/v1/proposals/{proposal.pk}/vote/", {"choice": "perhaps"}, format="json")
        assert response.status_code == 422 and response.json()["error"]["fields"] == {
            "choice": ["Choose one of: yes, no, abstain."]
        }
        response = member_api.post(f"/api/v1/proposals/{proposal.pk}/vote/", {"ranking": "A"}, format="json")
        assert response.status_code == 400 and response.json()["error"]["code"] == "invalid"
        response = member_api.post(f"/api/v1/proposals/{proposal.pk}/vote/", {"choice": "block", "reason": "x"}, format="json")
        assert response.status_code == 422 and response.json()["error"]["code"] == "invalid_vote"
        assert member_api.get("/api/v1/proposals/999999/").json()["error"]["code"] == "not_found"
        assert org_api.get("/api/v1/proposals/").status_code == 403
        assert api_client.get("/api/v1/proposals/").status_code == 401


class TestClientApi:
    def test_clients_see_only_their_own_agreements(self, steward, active_dua, org_api, organization):
        rival = factories.make_organization("Rival Corp")
        services.contract_create(actor=steward, organization=rival, **contract_terms(title="Rival contract"))
        contracts = org_api.get("/api/v1/contracts/").json()
        assert [c["title"] for c in contracts] == ["Invoice OCR 2026"] and contracts[0]["status"] == "active"
        duas = org_api.get("/api/v1/dua/").json()
        assert [d["id"] for d in duas] == [active_dua.pk]
        assert duas[0]["permitted_purposes"] == ["model_training", "evaluation"] and duas[0]["retention_ends_on"]
        rival_contract = rival.contracts.get()
        assert org_api.get(f"/api/v1/contracts/{rival_contract.pk}/").status_code == 404

    def test_client_attests_deletion(self, active_dua, org_api, client_user):
        url = f"/api/v1/dua/{active_dua.pk}/attest-deletion/"
        short = org_api.post(url, {"statement": "done"}, format="json")
        assert short.status_code == 422 and "statement" in short.json()["error"]["fields"]
        response = org_api.post(url, {"statement": "Deleted bucket acme-labels, backups purged 2026-03-01."}, format="json")
        assert response.status_code == 200 and response.json()["deletion_attested_at"]
        assert (
            org_api.post(url, {"statement": "Deleted bucket acme-labels, backups purged 2026-03-01."}, format="json").json()[
                "error"
            ]["code"]
            == "already_attested"
        )

    def test_members_cannot_use_the_client_api(self, member_api):
        assert member_api.get("/api/v1/contracts/").status_code == 403


def test_schema_documents_the_governance_api(client, db):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    for path in (
        "/api/v1/proposals/",
        "/api/v1/proposals/{id}/",
        "/api/v1/proposals/{id}/vote/",
        "/api/v1/proposals/{id}/results/",
        "/api/v1/contracts/",
        "/api/v1/dua/",
        "/api/v1/dua/{id}/attest-deletion/",
    ):
        assert path in schema["paths"], path
    assert "VoteInput" in str(schema["components"]["schemas"].keys()) or "VoteInputRequest" in schema["components"]["schemas"]
