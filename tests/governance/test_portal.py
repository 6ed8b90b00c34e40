"""Governance pages: members read and vote, stewards draft and propose, suspended members appeal, the log exports."""

import json

import pytest

from coop import services as coop_services
from coop.models import Membership
from governance import services
from governance.models import Contract, Proposal, Vote

from .helpers import close, contract_terms, make_members, motion

pytestmark = pytest.mark.django_db


class TestProposalPages:
    def test_list_shows_open_proposals_and_whether_i_voted(self, client, steward, member, django_assert_max_num_queries):
        voted = motion(steward, title="Already voted on")
        motion(steward, title="Waiting for me")
        services.ballot_cast(proposal=voted, user=member, choice="yes")
        client.force_login(member)
        with django_assert_max_num_queries(12):
            page = client.get("/governance/").content.decode()
        assert "Already voted on" in page and "Waiting for me" in page and "not voted yet" in page

    def test_vote_through_the_form_and_see_the_history(self, client, steward, member):
        proposal = motion(steward, threshold="consent")
        client.force_login(member)
        page = client.get(f"/governance/proposals/{proposal.pk}/").content.decode()
        assert 'value="block"' in page and "You are on this vote" in page
        response = client.post(f"/governance/proposals/{proposal.pk}/vote/", {"choice": "block"}, follow=True)
        assert "A block needs a reason" in response.content.decode() and not Vote.objects.exists()
        client.post(f"/governance/proposals/{proposal.pk}/vote/", {"choice": "no"})
        response = client.post(f"/governance/proposals/{proposal.pk}/vote/", {"choice": "yes"}, follow=True)
        page = response.content.decode()
        assert "Your vote is changed" in page and 'data-testid="vote-history"' in page
        assert Vote.objects.get(proposal=proposal).revision == 2

    def test_ranked_ballot_form(self, client, steward, member):
        proposal = services.proposal_create(
            actor=steward, kind="steward_election", title="Board", candidates=[steward.membership, member.membership]
        )
        client.force_login(member)
        first, second = (c["key"] for c in proposal.choices)
        bad = client.post(f"/governance/proposals/{proposal.pk}/vote/", {f"rank_{first}": "1", f"rank_{second}": "1"})
        assert bad.status_code == 400
        client.post(f"/governance/proposals/{proposal.pk}/vote/", {f"rank_{first}": "2", f"rank_{second}": "1"})
        closed = close(proposal)
        assert closed.result["rounds"][0]["counts"] == {first: 0, second: 1}

    def test_stewards_create_each_kind_of_proposal_from_the_form(self, client, steward, applicant):
        client.force_login(steward)
        assert "Pay floor change" in client.get("/governance/proposals/new/").content.decode()
        response = client.post(
            "/governance/proposals/new/?kind=pay_floor_change&direct=1",
            {
                "title": "Pay floor 2027",
                "method": "score",
                "quorum_pct": "30",
                "duration_days": "7",
                "results_hidden": "on",
                "score_min": "18",
                "score_max": "35",
            },
        )
        proposal = Proposal.objects.get(kind="pay_floor_change")
        assert response.status_code == 302 and (proposal.score_min, proposal.score_max) == (18, 35)
        response = client.post(
            "/governance/proposals/new/?kind=member_admission&direct=1",
            {
                "title": "Admit",
                "method": "yes_no",
                "threshold": "majority",
                "quorum_pct": "5",
                "duration_days": "7",
                "membership": applicant.membership.pk,
                "secret": "on",
            },
        )
        assert response.status_code == 200 and "The quorum must be between" in response.content.decode()
        member = make_members(1)[0]
        response = client.post(
            "/governance/proposals/new/?kind=suspension&direct=1",
            {
                "method": "yes_no",
                "threshold": "two_thirds",
                "quorum_pct": "30",
                "duration_days": "7",
                "secret": "on",
                "membership": member.membership.pk,
                "reason": "Harassed a member in the forum",
                "evidence": "Screenshots in ticket 31",
            },
        )
        assert (
            response.status_code == 302
            and Proposal.objects.get(kind="suspension").payload["evidence"] == "Screenshots in ticket 31"
        )

    def test_closed_score_and_ranked_results_pages(self, client, steward, member):
        pay = services.proposal_create(actor=steward, kind="pay_floor_change", title="Pay floor 2027")
        election = services.proposal_create(
            actor=steward, kind="steward_election", title="Board", candidates=[steward.membership, member.membership]
        )
        client.force_login(member)
        page = client.get(f"/governance/proposals/{pay.pk}/").content.decode()
        assert 'name="score"' in page and "Between 1 and 500." in page
        client.post(f"/governance/proposals/{pay.pk}/vote/", {"score": "24.50"})
        client.post(f"/governance/proposals/{election.pk}/vote/", {f"rank_{member.membership.pk}": "1"})
        close(pay)
        close(election)
        client.force_login(steward)  # the member, now elected steward, must first set up two-factor authentication
        page = client.get(f"/governance/proposals/{pay.pk}/").content.decode()
        assert "Median: <strong>24.50</strong>" in page and "Pay floor is now 24.5" in page
        page = client.get(f"/governance/proposals/{election.pk}/").content.decode()
        assert f"Elected: <strong>{member.membership.display_name}</strong>" in page and "instant runoff" in page.lower()

    def test_dashboard_card_lists_votes_waiting(self, steward, member):
        """governance/partials/dashboard_card.html, for settings.PORTAL_MEMBER_DASHBOARD_CARDS."""
        from django.template.loader import render_to_string

        proposal = motion(steward, title="Vote on the welfare fund")
        assert "Vote on the welfare fund" in render_to_string("governance/partials/dashboard_card.html", {"user": member})
        services.ballot_cast(proposal=proposal, user=member, choice="yes")
        assert "No open vote is waiting for you." in render_to_string("governance/partials/dashboard_card.html", {"user": member})

    def test_live_page_script_is_served(self, client, member):
        client.force_login(member)
        response = client.get("/static/governance/proposal.js")
        assert response.status_code == 200 and b"/ws/governance/proposals/" in b"".join(response.streaming_content)

    def test_members_cannot_reach_steward_pages(self, client, member):
        client.force_login(member)
        assert client.get("/governance/contracts/new/").status_code == 403
        # Members put proposals forward, but cannot open a vote directly.
        page = client.get("/governance/proposals/new/?kind=general_motion&direct=1").content.decode()
        assert "co-sponsor" in page and "Opened directly by a steward" not in page
        client.post(
            "/governance/proposals/new/?kind=suspension&direct=1",
            {"title": "x", "method": "yes_no", "quorum_pct": "30", "duration_days": "7", "membership": member.membership.pk},
        )
        assert not Proposal.objects.exists()

    def test_withdraw(self, client, steward):
        proposal = motion(steward)
        client.force_login(steward)
        client.post(f"/governance/proposals/{proposal.pk}/withdraw/", {"reason": "Wrong text"})
        proposal.refresh_from_db()
        assert proposal.status == "withdrawn"


class TestAgreementPages:
    def test_steward_drafts_amends_and_members_read_the_diff(self, client, steward, member, organization, active_contract):
        client.force_login(steward)
        response = client.post(f"/governance/contracts/{active_contract.pk}/amend/")
        amendment = Contract.objects.get(version=2)
        assert response["Location"] == f"/governance/contracts/{amendment.pk}/edit/"
        form = {
            "title": amendment.title,
            "scope": amendment.scope,
            "task_types": ["ocr"],
            "rate_card": "ocr = 0.20",
            "payment_terms": amendment.payment_terms,
            "term_start": amendment.term_start.isoformat(),
            "term_end": amendment.term_end.isoformat(),
            "termination_notice_days": "30",
        }
        assert client.post(f"/governance/contracts/{amendment.pk}/edit/", form).status_code == 302
        response = client.post(f"/governance/contracts/{amendment.pk}/propose/")
        assert response.status_code == 302 and "/governance/proposals/" in response["Location"]
        client.force_login(member)
        page = client.get(f"/governance/contracts/{amendment.pk}/").content.decode()
        assert "Changes from version 1" in page and "+  ocr: 0.20" in page and "-  ocr: 0.12" in page
        assert client.get("/governance/contracts/").status_code == 200

    def test_new_contract_and_dua_forms(self, client, steward, organization):
        client.force_login(steward)
        terms = contract_terms()
        response = client.post(
            "/governance/contracts/new/",
            {
                "organization": organization.pk,
                **{k: terms[k] for k in ("title", "scope", "payment_terms", "termination_notice_days")},
                "task_types": ["ocr", "classification"],
                "rate_card": "ocr = 0.12\nclassification = 0.02",
                "term_start": terms["term_start"].isoformat(),
                "term_end": terms["term_end"].isoformat(),
            },
        )
        contract = Contract.objects.get()
        assert response.status_code == 302 and contract.rate_card == {"ocr": "0.12", "classification": "0.02"}
        response = client.post(
            f"/governance/contracts/{contract.pk}/dua/new/",
            {
                "permitted_purposes": ["evaluation"],
                "retention_days": "30",
                "personal_data_class": "none",
                "breach_reporting_hours": "72",
                "revenue_share_pct": "1.5",
                "signatories": "Casey | CTO | 2026-01-05",
                "prohibited_uses": "Surveillance\nResale",
            },
        )
        dua = contract.data_use_agreements.get()
        assert response.status_code == 302 and dua.prohibited_uses == ["Surveillance", "Resale"]
        assert dua.signatories == [{"name": "Casey", "role": "CTO", "date": "2026-01-05"}]
        page = client.get(f"/governance/dua/{dua.pk}/").content.decode()
        assert "Evaluating models or systems" in page and "Propose for ratification" in page
        assert client.get("/governance/dua/").status_code == 200
        assert "20" in client.get("/governance/policies/").content.decode()


class TestAppealsAndLog:
    def test_suspended_member_appeals_from_the_governance_page(self, client, steward, member):
        coop_services.membership_suspend(membership=member.membership, actor=None, reason="Late deliveries")
        client.force_login(member)
        page = client.get("/governance/appeals/new/").content.decode()
        assert 'data-testid="file-appeal"' in page
        response = client.post("/governance/appeals/new/", {"reason": "My deliveries were on time; see the timestamps."})
        appeal = Proposal.objects.get(kind="appeal")
        assert response["Location"] == f"/governance/proposals/{appeal.pk}/"
        assert appeal.membership_id == member.membership.pk and appeal.status == "open"
        assert Membership.objects.get(pk=member.membership.pk).status == "suspended"
        # The appellant follows their appeal, though suspended; other proposals stay members-only.
        page = client.get(f"/governance/proposals/{appeal.pk}/").content.decode()
        assert "Appeal by" in page and f'action="/governance/proposals/{appeal.pk}/vote/"' not in page
        assert client.get(f"/governance/proposals/{motion(steward).pk}/").status_code == 403
        assert "Your membership is not suspended" not in client.get("/governance/appeals/new/").content.decode()

    def test_log_page_filters_and_exports(self, client, steward, member):
        proposal = motion(steward)
        services.ballot_cast(proposal=proposal, user=member, choice="no")
        client.force_login(member)
        page = client.get("/governance/log/?action=vote.").content.decode()
        assert "<code>vote.cast</code>" in page and "<code>proposal.created</code>" not in page
        response = client.get("/governance/log/export.jsonl")
        lines = [json.loads(line) for line in b"".join(response.streaming_content).decode().splitlines()]
        assert response["Content-Type"] == "application/x-ndjson"
        assert {line["action"] for line in lines} >= {"proposal.created", "proposal.opened", "vote.cast"}
        response = client.get("/governance/log/export.csv?action=vote.")
        rows = b"".join(response.streaming_content).decode().splitlines()
        assert rows[0] == "id,created_at,action,actor,actor_id,object_type,object_id,summary,data,previous_hash,entry_hash"
        assert len(rows) == 2
        assert client.get("/governance/log/export.xml").status_code == 404
