"""Members hold the power: they put proposals forward, co-sponsor, discuss, amend, delegate, and decide cases they are not party to."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from coop import services as coop_services
from coop.errors import ApplicationError
from coop.models import Membership
from governance import selectors, services
from governance.models import Comment, Delegation, GovernanceLog, Proposal, Sponsorship
from tests import factories

from .helpers import close, make_members, motion, vote

pytestmark = pytest.mark.django_db


def draft(author, **overrides) -> Proposal:
    options = {"kind": "general_motion", "title": "Publish reviewer statistics", "body": "Every month, per reviewer."} | overrides
    return services.proposal_draft(author=author, **options)


def backed(proposal, members, **kwargs):
    for member in members:
        proposal = services.proposal_cosponsor(proposal=proposal, user=member, **kwargs)
    return proposal


class TestMemberInitiative:
    def test_member_proposal_goes_to_ballot_once_three_members_cosponsor_it(self):
        author, *others = make_members(5)
        proposal = draft(author)
        assert (proposal.status, proposal.sponsors_required, proposal.created_by) == ("draft", 3, author)
        proposal = backed(proposal, others[:2])
        assert proposal.status == "draft"
        proposal = backed(proposal, others[2:3])
        assert proposal.status == "open"  # no discussion period: voting opens at once
        assert [m.user for m in selectors.sponsors(proposal)] == others[:3]
        assert proposal.electorate_size == 5
        vote(proposal, author, "yes")
        vote(proposal, others[0], "yes")
        assert close(proposal).outcome == "passed"
        assert GovernanceLog.objects.filter(action="proposal.cosponsored", object_id=str(proposal.pk)).count() == 3

    def test_the_cosponsor_count_is_a_policy_the_members_change_by_vote(self, steward):
        members = make_members(4)
        change = backed(draft(members[0], kind="policy_change", title="One co-sponsor", payload={"key": "proposal_cosponsors", "value": "1"}), members[1:4])
        for member in members:
            vote(change, member, "yes")
        assert close(change).effect_status == "applied"
        later = change.closes_at + dt.timedelta(minutes=1)
        assert selectors.policy_current("proposal_cosponsors", at=later) == 1
        quick = draft(members[1], now=later)
        assert quick.sponsors_required == 1
        assert backed(quick, [members[2]], now=later).status == "open"

    def test_discussion_period_delays_the_vote(self):
        author, *others = make_members(4)
        now = timezone.now()
        proposal = backed(draft(author, discussion_days=3, now=now), others, now=now)
        assert proposal.status == "scheduled"
        assert proposal.opens_at == now + dt.timedelta(days=3)
        assert proposal.closes_at - proposal.opens_at == dt.timedelta(days=7)
        services.proposals_open_due(now=now + dt.timedelta(days=3))
        assert Proposal.objects.get(pk=proposal.pk).status == "open"

    def test_each_member_kind_is_checked(self, steward):
        author = factories.make_member()
        with pytest.raises(ApplicationError) as excinfo:
            draft(author, kind="member_admission")
        assert excinfo.value.code == "kind_not_for_members"
        with pytest.raises(ApplicationError):
            draft(author, kind="steward_recall", membership=author.membership)  # not a steward
        with pytest.raises(ApplicationError):
            draft(author, kind="policy_change", payload={"key": "proposal_cosponsors", "value": "0"})  # below the minimum
        with pytest.raises(ApplicationError):
            draft(author, kind="contract_termination")
        recall = draft(author, kind="steward_recall", title="Recall", membership=steward.membership)
        assert recall.conflicted == [steward.membership.pk]
        assert not Proposal.objects.filter(status="draft").exclude(pk=recall.pk).exists()

    def test_steward_recall_by_members_removes_the_role(self, steward):
        members = make_members(4)
        recall = backed(draft(members[0], kind="steward_recall", title="Recall", membership=steward.membership), members[1:])
        assert selectors.eligibility(proposal=recall, user=steward)["code"] == "party_to_the_case"
        for member in members:
            vote(recall, member, "yes")
        assert close(recall).effect_status == "applied"
        assert not Membership.objects.get(pk=steward.membership.pk).is_steward

    def test_author_withdraws_before_voting_but_not_after(self):
        author, *others = make_members(4)
        proposal = draft(author)
        services.proposal_withdraw(actor=author, proposal=proposal, reason="Merged into another proposal")
        assert Proposal.objects.get(pk=proposal.pk).status == "withdrawn"
        live = backed(draft(author), others)
        with pytest.raises(ApplicationError) as excinfo:
            services.proposal_withdraw(actor=author, proposal=live, reason="Losing")
        assert excinfo.value.code == "voting_open"

    def test_adversarial_cosponsoring_twice_or_your_own_proposal_is_refused(self):
        author, other = make_members(2)
        proposal = draft(author)
        with pytest.raises(ApplicationError) as excinfo:
            services.proposal_cosponsor(proposal=proposal, user=author)
        assert excinfo.value.code == "own_proposal"
        services.proposal_cosponsor(proposal=proposal, user=other)
        with pytest.raises(ApplicationError) as excinfo:
            services.proposal_cosponsor(proposal=proposal, user=other)
        assert excinfo.value.code == "already_sponsored"
        assert Sponsorship.objects.filter(proposal=proposal).count() == 1

    def test_adversarial_another_member_cannot_withdraw_a_proposal(self):
        author, other = make_members(2)
        proposal = draft(author)
        with pytest.raises(ApplicationError) as excinfo:
            services.proposal_withdraw(actor=other, proposal=proposal, reason="I dislike it")
        assert excinfo.value.code == "not_your_proposal"

    def test_adversarial_suspended_member_cannot_propose_or_cosponsor(self):
        author, suspended = make_members(2)
        coop_services.membership_suspend(membership=suspended.membership, actor=None, reason="Decided by vote")
        with pytest.raises(ApplicationError):
            draft(suspended)
        with pytest.raises(ApplicationError):
            services.proposal_cosponsor(proposal=draft(author), user=suspended)

    def test_api_create_cosponsor_withdraw(self, api_client):
        author, *others = make_members(4)
        api_client.force_authenticate(author)
        response = api_client.post("/api/v1/proposals/", {"kind": "general_motion", "title": "Open books", "body": "Yes."}, format="json")
        assert response.status_code == 201, response.content
        pk = response.json()["id"]
        assert response.json()["status"] == "draft"
        api_client.force_authenticate(others[0])
        assert api_client.post(f"/api/v1/proposals/{pk}/cosponsor/").status_code == 200
        again = api_client.post(f"/api/v1/proposals/{pk}/cosponsor/")
        assert again.status_code == 409 and again.json()["error"]["code"] == "already_sponsored"
        bad = api_client.post("/api/v1/proposals/", {"kind": "member_admission", "title": "x"}, format="json")
        assert bad.status_code == 400
        api_client.force_authenticate(author)
        response = api_client.post(f"/api/v1/proposals/{pk}/withdraw/", {"reason": "Done elsewhere"}, format="json")
        assert response.status_code == 200 and response.json()["status"] == "withdrawn"

    def test_portal_form_previews_then_puts_forward(self, client):
        author = factories.make_member()
        client.force_login(author)
        url = "/governance/proposals/new/?kind=general_motion"
        form = {"title": "Pay reviewers for appeals", "body": "Reviewers are **paid** for appeal work.", "discussion_days": "2"}
        page = client.post(url, {**form, "preview": "1"}).content.decode()
        assert "<strong>paid</strong>" in page and not Proposal.objects.exists()
        response = client.post(url, {**form, "publish": "1"})
        proposal = Proposal.objects.get()
        assert response.status_code == 302 and proposal.status == "draft"
        page = client.get(f"/governance/proposals/{proposal.pk}/").content.decode()
        assert "put forward by" in page and author.membership.display_name in page


class TestDeliberation:
    def test_comments_replies_edit_window_and_moderation(self, steward):
        author, other = make_members(2)
        proposal = motion(steward)
        now = timezone.now()
        first = services.comment_post(proposal=proposal, author=author, body="I **support** this.", now=now)
        reply = services.comment_post(proposal=proposal, author=other, body="Why?", parent=first)
        deeper = services.comment_post(proposal=proposal, author=author, body="Because.", parent=reply)
        assert deeper.parent == first  # one level of replies
        services.comment_edit(comment=first, author=author, body="I support this strongly.", now=now + dt.timedelta(minutes=14))
        with pytest.raises(ApplicationError) as excinfo:
            services.comment_edit(comment=first, author=author, body="Changed my mind.", now=now + dt.timedelta(minutes=16))
        assert excinfo.value.code == "edit_window_passed"
        with pytest.raises(ApplicationError):
            services.comment_edit(comment=reply, author=author, body="Not mine")
        with pytest.raises(ApplicationError):
            services.comment_hide(comment=reply, actor=author, reason="I am no steward")
        services.comment_hide(comment=reply, actor=steward, reason="Personal attack")
        reply.refresh_from_db()
        assert reply.hidden_reason == "Personal attack" and reply.body == "Why?"  # hidden, never deleted
        assert GovernanceLog.objects.filter(action="comment.hidden", data__reason="Personal attack").exists()
        thread = selectors.comment_thread(proposal)
        assert [c.pk for c in thread] == [first.pk] and [r.pk for r in thread[0].thread_replies] == [reply.pk, deeper.pk]

    def test_adversarial_commenting_on_a_closed_proposal_is_refused(self, steward):
        member = factories.make_member()
        proposal = close(motion(steward))
        with pytest.raises(ApplicationError) as excinfo:
            services.comment_post(proposal=proposal, author=member, body="Too late")
        assert excinfo.value.code == "discussion_closed"
        assert not Comment.objects.exists()

    def test_comment_markdown_is_sanitised_on_the_page(self, client, steward):
        member = factories.make_member()
        proposal = motion(steward)
        services.comment_post(proposal=proposal, author=member, body="<script>alert(1)</script> **ok**")
        client.force_login(member)
        page = client.get(f"/governance/proposals/{proposal.pk}/").content.decode()
        assert "<strong>ok</strong>" in page and "<script>alert(1)" not in page

    def test_amendment_accepted_by_the_author_changes_the_text(self):
        author, amender, *others = make_members(5)
        proposal = draft(author, discussion_days=2)
        amendment = services.amendment_propose(proposal=proposal, author=amender, body="Every week, per reviewer.")
        with pytest.raises(ApplicationError):
            services.amendment_decide(amendment=amendment, actor=others[0], accept=True)  # not the author
        services.amendment_decide(amendment=amendment, actor=author, accept=True)
        assert Proposal.objects.get(pk=proposal.pk).body == "Every week, per reviewer."

    def test_declined_amendment_is_decided_by_the_members_before_the_motion(self):
        author, amender, *others = make_members(5)
        now = timezone.now()
        proposal = backed(draft(author, discussion_days=2, now=now), others[:3], now=now)
        amendment = services.amendment_propose(proposal=proposal, author=amender, body="Every week.", now=now)
        services.amendment_decide(amendment=amendment, actor=author, accept=False, now=now)
        services.proposals_open_due(now=now + dt.timedelta(days=2))
        proposal.refresh_from_db()
        amendment.refresh_from_db()
        assert proposal.status == "scheduled" and amendment.ballot.status == "open"
        assert proposal.opens_at > amendment.ballot.closes_at  # the amendment is decided first
        for member in [amender, *others]:
            vote(amendment.ballot, member, "yes", now=amendment.ballot.opens_at + dt.timedelta(hours=1))
        assert close(amendment.ballot).effect_status == "applied"
        assert Proposal.objects.get(pk=proposal.pk).body == "Every week."
        services.proposals_open_due(now=proposal.opens_at)
        assert Proposal.objects.get(pk=proposal.pk).status == "open"

    def test_outcome_statement_after_close(self, steward):
        author, *others = make_members(4)
        proposal = backed(draft(author), others)
        with pytest.raises(ApplicationError):
            services.outcome_statement_set(proposal=proposal, actor=author, statement="Early")
        close(proposal)
        with pytest.raises(ApplicationError):
            services.outcome_statement_set(proposal=proposal, actor=others[0], statement="Not the author")
        services.outcome_statement_set(proposal=proposal, actor=author, statement="Statistics go up monthly from March.")
        assert Proposal.objects.get(pk=proposal.pk).outcome_statement.startswith("Statistics")


class TestDelegation:
    def test_proxy_vote_counts_unless_the_member_votes_themself(self, steward):
        alice, bob, carol, dan = make_members(4)
        services.delegation_set(user=alice, delegate=bob.membership)
        services.delegation_set(user=carol, delegate=bob.membership, category="general_motion")
        proposal = motion(steward, quorum_pct="50")
        vote(proposal, bob, "yes")
        vote(proposal, carol, "no")  # her own vote overrides her proxy's
        result = close(proposal).result
        assert result["counts"]["yes"] == 2 and result["counts"]["no"] == 1
        assert result["by_proxy"] == 1 and result["quorum"]["voted"] == 3
        assert [p["delegator_name"] for p in selectors.proxy_votes_named(Proposal.objects.get(pk=proposal.pk))] == [
            alice.membership.display_name
        ]

    def test_one_level_only_and_category_proxy_wins(self, steward):
        alice, bob, carol = make_members(3)
        services.delegation_set(user=alice, delegate=bob.membership)
        services.delegation_set(user=bob, delegate=carol.membership)
        proposal = motion(steward)
        vote(proposal, carol, "no")
        result = close(proposal).result
        assert result["counts"]["no"] == 2  # carol + bob (bob's proxy); alice's proxy bob did not vote himself
        services.delegation_set(user=alice, delegate=carol.membership, category="general_motion")
        second = motion(steward, title="Second")
        vote(second, carol, "yes")
        assert close(second).result["counts"]["yes"] == 3

    def test_revoking_before_close_takes_the_vote_back(self, steward):
        alice, bob = make_members(2)
        delegation = services.delegation_set(user=alice, delegate=bob.membership)
        proposal = motion(steward)
        vote(proposal, bob, "yes")
        services.delegation_revoke(user=alice, delegation=delegation)
        assert close(proposal).result["counts"]["yes"] == 1

    def test_secret_ballots_are_cast_in_person_only(self, steward):
        alice, bob = make_members(2)
        services.delegation_set(user=alice, delegate=bob.membership)
        proposal = motion(steward, secret=True)
        vote(proposal, bob, "yes")
        result = close(proposal).result
        assert result["counts"]["yes"] == 1 and result.get("by_proxy", 0) == 0

    def test_adversarial_self_cycle_and_limit_are_refused(self):
        alice, bob, carol = make_members(3)
        with pytest.raises(ApplicationError) as excinfo:
            services.delegation_set(user=alice, delegate=alice.membership)
        assert excinfo.value.code == "delegate_self"
        services.delegation_set(user=alice, delegate=bob.membership)
        services.delegation_set(user=bob, delegate=carol.membership)
        with pytest.raises(ApplicationError) as excinfo:
            services.delegation_set(user=carol, delegate=alice.membership)  # carol → alice → bob → carol
        assert excinfo.value.code == "delegation_cycle"
        assert Delegation.objects.filter(revoked_at__isnull=True).count() == 2

    def test_adversarial_proxy_limit(self, steward):
        delegate = factories.make_member()
        for member in make_members(5):
            services.delegation_set(user=member, delegate=delegate.membership)
        with pytest.raises(ApplicationError) as excinfo:
            services.delegation_set(user=factories.make_member(), delegate=delegate.membership)
        assert excinfo.value.code == "proxy_limit_reached"

    def test_adversarial_revoking_someone_elses_proxy_is_refused(self):
        alice, bob, mallory = make_members(3)
        delegation = services.delegation_set(user=alice, delegate=bob.membership)
        with pytest.raises(ApplicationError):
            services.delegation_revoke(user=mallory, delegation=delegation)

    def test_proxy_page(self, client):
        alice, bob = make_members(2)
        client.force_login(alice)
        response = client.post("/governance/proxies/", {"delegate": bob.membership.pk, "category": ""})
        assert response.status_code == 302
        assert bob.membership.display_name in client.get("/governance/proxies/").content.decode()
        response = client.post("/governance/proxies/", {"delegate": alice.membership.pk, "category": ""})
        assert response.status_code == 200  # not in the list of choices: the form refuses it


class TestDueProcess:
    def test_adversarial_one_steward_cannot_impose_an_interim_suspension(self, steward):
        member = factories.make_member()
        interim = services.interim_suspension_request(
            actor=steward, membership=member.membership, ground="fraud", evidence="Answers pasted from a model, 40 tasks in 2 minutes."
        )
        assert Membership.objects.get(pk=member.membership.pk).status == "active"
        with pytest.raises(ApplicationError) as excinfo:
            services.interim_suspension_confirm(actor=steward, interim=interim)
        assert excinfo.value.code == "second_steward_required"
        assert Membership.objects.get(pk=member.membership.pk).status == "active"

    def test_adversarial_interim_only_for_listed_emergencies(self, steward):
        member = factories.make_member()
        with pytest.raises(ApplicationError) as excinfo:
            services.interim_suspension_request(
                actor=steward, membership=member.membership, ground="disagreement", evidence="Argued with me in the forum for days."
            )
        assert excinfo.value.code == "not_an_emergency"

    def test_two_stewards_suspend_for_a_limited_time_and_the_members_review(self, steward):
        second = factories.make_steward()
        member = factories.make_member()
        voters = make_members(3)
        now = timezone.now()
        interim = services.interim_suspension_request(
            actor=steward, membership=member.membership, ground="harassment", evidence="Threatening messages to two members.", now=now
        )
        interim = services.interim_suspension_confirm(actor=second, interim=interim, now=now)
        assert Membership.objects.get(pk=member.membership.pk).status == "suspended"
        assert interim.ends_at == now + dt.timedelta(days=7)
        review = interim.review
        assert review.status == "open" and review.secret
        parties = {member.membership.pk, steward.membership.pk, second.membership.pk}
        assert parties <= set(review.conflicted)
        assert not review.electors.filter(membership_id__in=parties).exists()
        with pytest.raises(ApplicationError) as excinfo:
            vote(review, steward, "yes")
        assert excinfo.value.code == "party_to_the_case"
        # The member sees the case and answers in the thread, though suspended.
        services.comment_post(proposal=review, author=member, body="These messages were not mine; my account was shared.")
        for voter in voters:
            vote(review, voter, "no")
        close(review)
        assert Membership.objects.get(pk=member.membership.pk).status == "active"

    def test_interim_suspension_ends_by_itself_without_a_vote_to_suspend(self, steward):
        second = factories.make_steward()
        member = factories.make_member()
        now = timezone.now()
        interim = services.interim_suspension_request(
            actor=steward, membership=member.membership, ground="safety", evidence="Posted another member's home address.", now=now
        )
        interim = services.interim_suspension_confirm(actor=second, interim=interim, now=now)
        assert services.interim_suspensions_expire_due(now=now + dt.timedelta(days=6)) == 0
        assert services.interim_suspensions_expire_due(now=now + dt.timedelta(days=7)) == 1
        assert Membership.objects.get(pk=member.membership.pk).status == "active"
        assert services.interim_suspensions_expire_due(now=now + dt.timedelta(days=8)) == 0  # idempotent

    def test_parties_are_off_the_electorate_of_a_suspension_vote_and_an_appeal(self, steward):
        member = factories.make_member()
        voters = make_members(3)
        proposal = services.suspension_propose(
            actor=steward, membership=member.membership, reason="Repeated copying of answers", evidence="Tasks 1-40, identical text."
        )
        assert not proposal.electors.filter(membership_id__in=[member.membership.pk, steward.membership.pk]).exists()
        assert selectors.eligibility(proposal=proposal, user=member)["code"] == "party_to_the_case"
        for voter in voters:
            vote(proposal, voter, "yes")
        close(proposal)
        appeal = services.appeal_file(member=member, subject=Membership.objects.get(pk=member.membership.pk), reason="The evidence is about another account.")
        assert not appeal.electors.filter(membership_id__in=[member.membership.pk, steward.membership.pk]).exists()
        assert appeal.electorate_size == 3

    def test_members_review_a_suspension_they_did_not_decide(self, steward):
        member = factories.make_member()
        voters = make_members(4)
        coop_services.membership_suspend(membership=member.membership, actor=None, reason="By an old vote")
        review = backed(
            draft(voters[0], kind="suspension_review", title="Lift the suspension", membership=member.membership), voters[1:]
        )
        for voter in voters:
            vote(review, voter, "yes")
        close(review)
        assert Membership.objects.get(pk=member.membership.pk).status == "active"


def test_a_refused_comment_keeps_what_was_typed(client, steward):
    member = factories.make_member()
    proposal = close(motion(steward))
    client.force_login(member)
    response = client.post(f"/governance/proposals/{proposal.pk}/comments/", {"body": "My long considered view on this."})
    page = response.content.decode()
    assert response.status_code == 400
    assert "My long considered view on this." in page and "The discussion closed with the vote." in page
