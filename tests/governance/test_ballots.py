"""Casting votes: eligibility, bad input, vote changes, secret ballots, hidden results, opening and closing."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from coop import services as coop_services
from coop.errors import ApplicationError
from governance import selectors, services
from governance.models import (
    Elector,
    GovernanceLog,
    Participation,
    Proposal,
    SealedBallot,
    SecretBallot,
    Vote,
    VoteHistory,
)
from tests import factories

from .helpers import close, make_members, motion, vote

pytestmark = pytest.mark.django_db


def nothing_written(proposal) -> tuple:
    return (
        Vote.objects.filter(proposal=proposal).count(),
        VoteHistory.objects.filter(vote__proposal=proposal).count(),
        Participation.objects.filter(proposal=proposal).count(),
        SealedBallot.objects.filter(proposal=proposal).count() + SecretBallot.objects.filter(proposal=proposal).count(),
        GovernanceLog.objects.filter(action__startswith="vote.").count(),
    )


class TestOpening:
    def test_electorate_is_frozen_at_opening(self, steward, member):
        proposal = motion(steward)
        assert proposal.status == "open" and proposal.electorate_size == 2
        assert set(Elector.objects.filter(proposal=proposal).values_list("membership__user", flat=True)) == {
            steward.pk,
            member.pk,
        }
        newcomer = factories.make_member()  # admitted after the ballot opened
        with pytest.raises(ApplicationError) as excinfo:
            vote(proposal, newcomer, "yes")
        assert excinfo.value.code == "not_eligible" and excinfo.value.status == 403
        assert nothing_written(proposal) == (0, 0, 0, 0, 0)
        assert selectors.eligibility(proposal=proposal, user=newcomer)["code"] == "not_eligible"

    def test_scheduled_proposal_opens_later_with_the_members_of_that_moment(self, steward):
        opens = timezone.now() + dt.timedelta(hours=2)
        proposal = motion(steward, opens_at=opens)
        assert proposal.status == "scheduled" and not proposal.electors.exists()
        with pytest.raises(ApplicationError) as excinfo:
            vote(proposal, steward, "yes")
        assert excinfo.value.code == "ballot_not_open"
        late = factories.make_member()
        assert services.proposals_open_due(now=opens) == 1
        assert services.proposals_open_due(now=opens) == 0  # idempotent
        proposal.refresh_from_db()
        assert proposal.status == "open" and proposal.electorate_size == 2
        vote(proposal, late, "yes", now=opens + dt.timedelta(minutes=1))

    def test_suspended_member_cannot_vote_even_if_on_the_electorate(self, steward, member):
        proposal = motion(steward)
        coop_services.membership_suspend(membership=member.membership, actor=None, reason="Repeated spam")
        with pytest.raises(ApplicationError) as excinfo:
            vote(proposal, member, "yes")
        assert excinfo.value.code == "not_in_good_standing"

    def test_clients_and_applicants_cannot_vote(self, steward, client_user, applicant):
        proposal = motion(steward)
        for user in (client_user, applicant):
            with pytest.raises(ApplicationError) as excinfo:
                vote(proposal, user, "yes")
            assert excinfo.value.code in ("not_a_member", "not_eligible")
        assert nothing_written(proposal) == (0, 0, 0, 0, 0)


class TestRulesAtCreation:
    def test_overrides_must_stay_within_the_kinds_limits(self, steward):
        for overrides, code in [
            ({"quorum_pct": Decimal(5)}, "quorum_out_of_range"),
            ({"threshold": "plurality"}, "threshold_not_allowed"),
            ({"method": "ranked"}, "method_not_allowed"),
            ({"duration": dt.timedelta(hours=1)}, "duration_out_of_range"),
            ({"secret": True, "results_hidden": False}, "secret_hides_results"),
        ]:
            with pytest.raises(ApplicationError) as excinfo:
                motion(steward, **overrides)
            assert excinfo.value.code == code, overrides
        assert not Proposal.objects.exists()

    def test_bylaws_need_two_thirds_and_elections_are_secret(self, steward):
        with pytest.raises(ApplicationError):
            motion(steward, kind="bylaw_amendment", threshold="majority")
        with pytest.raises(ApplicationError) as excinfo:
            services.proposal_create(
                actor=steward, kind="steward_election", title="Board", candidates=[steward.membership], secret=False
            )
        assert excinfo.value.code == "secret_required"

    def test_members_cannot_put_proposals(self, member):
        with pytest.raises(ApplicationError) as excinfo:
            motion(member)
        assert excinfo.value.code == "steward_required"

    def test_one_open_vote_per_subject(self, steward, applicant):
        services.proposal_create(actor=steward, kind="member_admission", title="Admit", membership=applicant.membership)
        with pytest.raises(ApplicationError) as excinfo:
            services.proposal_create(actor=steward, kind="member_admission", title="Admit again", membership=applicant.membership)
        assert excinfo.value.code == "already_open"


class TestInvalidVotes:
    @pytest.mark.parametrize(
        ("ballot", "code"),
        [
            ({"choice": "maybe"}, "invalid_vote"),
            ({"choice": "block", "reason": "no"}, "invalid_vote"),  # block only exists on consent ballots
            ({"choice": ""}, "invalid_vote"),
        ],
    )
    def test_yes_no_ballot(self, steward, member, ballot, code):
        proposal = motion(steward)
        with pytest.raises(ApplicationError) as excinfo:
            vote(proposal, member, **ballot)
        assert excinfo.value.code == code and "choice" in excinfo.value.fields
        assert nothing_written(proposal) == (0, 0, 0, 0, 0)

    def test_consent_block_needs_a_reason(self, steward, member):
        proposal = motion(steward, threshold="consent")
        with pytest.raises(ApplicationError) as excinfo:
            vote(proposal, member, "block")
        assert excinfo.value.code == "block_needs_reason"
        assert nothing_written(proposal) == (0, 0, 0, 0, 0)
        vote(proposal, member, "block", reason="This bans unions; strike clause 3.")
        assert Vote.objects.get(proposal=proposal).choice == "block"

    @pytest.mark.parametrize("score", ["abc", "10.999", "0.50", "501", None, "NaN"])
    def test_score_out_of_range_or_malformed(self, steward, member, score):
        proposal = services.proposal_create(
            actor=steward, kind="pay_floor_change", title="Pay floor 2026", score_min="15", score_max="40"
        )
        with pytest.raises(ApplicationError) as excinfo:
            vote(proposal, member, score=score)
        assert excinfo.value.code == "invalid_vote" and "score" in excinfo.value.fields
        assert nothing_written(proposal) == (0, 0, 0, 0, 0)

    @pytest.mark.parametrize("ranking", [[], ["999"], "not-a-list", ["A", "A"]])
    def test_bad_rankings(self, steward, member, ranking):
        proposal = services.proposal_create(
            actor=steward, kind="steward_election", title="Board", candidates=[steward.membership, member.membership]
        )
        first = proposal.choices[0]["key"]
        ranking = [first, first] if ranking == ["A", "A"] else ranking
        with pytest.raises(ApplicationError) as excinfo:
            vote(proposal, member, ranking=ranking)
        assert excinfo.value.code == "invalid_vote"
        assert nothing_written(proposal) == (0, 0, 0, 0, 0)

    def test_voting_after_close_is_refused(self, steward, member):
        proposal = motion(steward)
        with pytest.raises(ApplicationError) as excinfo:
            vote(proposal, member, "yes", now=proposal.closes_at)  # the closing instant is already too late
        assert excinfo.value.code == "ballot_closed"
        close(proposal)
        with pytest.raises(ApplicationError) as excinfo:
            vote(proposal, member, "yes")
        assert excinfo.value.code == "ballot_closed" and excinfo.value.status == 409
        assert nothing_written(proposal)[:4] == (0, 0, 0, 0)


class TestVoteChanges:
    def test_named_vote_change_keeps_history(self, steward, member):
        proposal = motion(steward)
        first = vote(proposal, member, "no")
        assert not first.changed and first.vote.revision == 1
        second = vote(proposal, member, "yes", reason="Convinced by the debate")
        assert second.changed and second.vote.revision == 2
        again = vote(proposal, member, "yes", reason="Convinced by the debate")  # idempotent
        assert not again.recorded and again.vote.revision == 2
        assert Vote.objects.filter(proposal=proposal).count() == 1
        assert list(VoteHistory.objects.filter(vote__proposal=proposal).values_list("revision", "choice")) == [
            (1, "no"),
            (2, "yes"),
        ]
        assert list(GovernanceLog.objects.filter(action__startswith="vote.").values_list("action", flat=True)) == [
            "vote.changed",
            "vote.cast",
        ]
        assert selectors.my_vote(proposal=proposal, user=member).choice == "yes"

    def test_secret_vote_cannot_be_changed(self, steward, member):
        proposal = motion(steward, secret=True)
        receipt = vote(proposal, member, "no")
        assert receipt.secret and receipt.vote is None
        with pytest.raises(ApplicationError) as excinfo:
            vote(proposal, member, "yes")
        assert excinfo.value.code == "already_voted" and excinfo.value.status == 409
        assert SealedBallot.objects.filter(proposal=proposal).count() == 1
        close(proposal)
        assert list(SecretBallot.objects.filter(proposal=proposal).values_list("choice", flat=True)) == ["no"]
        assert Participation.objects.filter(proposal=proposal).count() == 1
        assert selectors.my_vote(proposal=proposal, user=member) is None


class TestResultsVisibility:
    def test_results_hidden_until_close(self, steward, member):
        proposal = motion(steward)
        vote(proposal, member, "yes")
        proposal.refresh_from_db()
        assert selectors.result_for_display(proposal) is None
        close(proposal)
        result = selectors.result_for_display(Proposal.objects.get(pk=proposal.pk))
        assert result["counts"] == {"yes": 1, "no": 0, "abstain": 0, "block": 0}

    def test_visible_results_show_a_running_tally(self, steward, member):
        proposal = motion(steward, results_hidden=False)
        vote(proposal, member, "no")
        assert selectors.result_for_display(proposal)["counts"]["no"] == 1

    def test_named_votes_are_shown_by_name_only_after_close(self, steward, member):
        proposal = motion(steward)
        vote(proposal, member, "yes")
        assert not selectors.named_votes(proposal).exists()
        close(proposal)
        assert [v.membership.user_id for v in selectors.named_votes(Proposal.objects.get(pk=proposal.pk))] == [member.pk]


class TestClosing:
    def test_close_is_idempotent_and_only_when_due(self, steward):
        members = make_members(3)
        proposal = motion(steward)
        for m in members[:2]:
            vote(proposal, m, "yes")
        vote(proposal, members[2], "no")
        with pytest.raises(ApplicationError) as excinfo:
            services.proposal_close(proposal=proposal, now=proposal.closes_at - dt.timedelta(seconds=1))
        assert excinfo.value.code == "not_due"
        closed = close(proposal)
        assert closed.status == "closed" and closed.outcome == "passed" and closed.quorum_reached
        assert closed.result["counts"] == {"yes": 2, "no": 1, "abstain": 0, "block": 0}
        assert closed.effect_status == "recorded"
        again = close(proposal)
        assert again.closed_at == closed.closed_at
        assert GovernanceLog.objects.filter(action="proposal.closed", object_id=str(proposal.pk)).count() == 1
        assert services.proposals_close_due(now=proposal.closes_at) == 0

    def test_quorum_exactly_met_and_missed(self, steward):
        members = make_members(9)  # electorate of 10 with the steward
        passing, failing = motion(steward, quorum_pct=Decimal(30)), motion(steward, title="Second motion", quorum_pct=Decimal(30))
        for m in members[:3]:
            vote(passing, m, "yes")
        for m in members[:2]:
            vote(failing, m, "yes")
        assert close(passing).outcome == "passed"
        failed = close(failing)
        assert failed.outcome == "failed" and failed.quorum_reached is False
        assert failed.result["quorum"] == {"electorate": 10, "voted": 2, "required": 3, "met": False}

    def test_withdrawn_proposal_cannot_be_voted_on(self, steward, member):
        proposal = motion(steward)
        with pytest.raises(ApplicationError):
            services.proposal_withdraw(actor=steward, proposal=proposal, reason="")
        services.proposal_withdraw(actor=steward, proposal=proposal, reason="Superseded by a better text")
        with pytest.raises(ApplicationError) as excinfo:
            vote(proposal, member, "yes")
        assert excinfo.value.code == "ballot_closed"
