"""Each kind of proposal applies its effect when it passes, in the transaction that records the result."""

import datetime as dt
from decimal import Decimal

import pytest

from coop.errors import ApplicationError
from coop.models import Membership, Notification
from coop.services import notification_send
from governance import effects, selectors, services
from governance.models import Contract, PolicyValue, Proposal

from .helpers import close, contract_terms, make_members, motion, ratify, vote

pytestmark = pytest.mark.django_db


def rejected_work(member):
    """Any model instance can be appealed; a notification stands in for a marketplace answer here."""
    return notification_send(user=member, kind="answer.rejected", title="Your answer to task 12 was rejected")


def pass_with(proposal, voters, choice="yes", **ballot):
    for voter in voters:
        vote(proposal, voter, choice, **ballot)
    return close(proposal)


class TestAgreements:
    def test_contract_ratified_becomes_active(self, steward, organization, voters):
        contract = services.contract_create(actor=steward, organization=organization, **contract_terms())
        proposal = ratify(contract, steward, voters)
        proposal.refresh_from_db()
        assert proposal.outcome == "passed" and proposal.effect_status == "applied"
        assert contract.status == "active" and contract.ratified_by_id == proposal.pk and contract.activated_at

    def test_contract_starting_later_is_ratified_then_started_by_the_job(self, steward, organization, voters):
        from django.utils import timezone

        start = timezone.localdate() + dt.timedelta(days=10)
        contract = services.contract_create(actor=steward, organization=organization, **contract_terms(term_start=start))
        ratify(contract, steward, voters)
        assert contract.status == "ratified"
        assert services.agreements_roll_terms()["started"] == 0
        later = timezone.now() + dt.timedelta(days=10)
        assert services.agreements_roll_terms(now=later) == {"started": 1, "expired": 0}
        contract.refresh_from_db()
        assert contract.status == "active"

    def test_amendment_supersedes_the_previous_version(self, steward, active_contract, voters):
        amendment = services.contract_amend(actor=steward, contract=active_contract, rate_card={"ocr": "0.15"})
        assert amendment.version == 2 and amendment.family == active_contract.family and amendment.status == "draft"
        ratify(amendment, steward, voters)
        active_contract.refresh_from_db()
        assert amendment.status == "active" and active_contract.status == "superseded"
        assert active_contract.end_reason == "Superseded by version 2."

    def test_a_stewards_termination_proposal_names_the_contract_and_ends_it(self, steward, active_contract, voters):
        with pytest.raises(ApplicationError) as refused:
            services.proposal_create(actor=steward, kind="contract_termination", title="End it", payload={"reason": "No contract named."})
        assert "contract" in refused.value.fields
        proposal = services.proposal_create(
            actor=steward, kind="contract_termination", title="End the invoice contract", contract=active_contract,
            payload={"reason": "The client stopped paying invoices."},
        )
        assert proposal.contract_id == active_contract.pk
        pass_with(proposal, voters)
        active_contract.refresh_from_db()
        assert active_contract.status == "terminated"

    def test_failed_ratification_returns_the_draft(self, steward, organization, voters):
        contract = services.contract_create(actor=steward, organization=organization, **contract_terms())
        proposal = services.contract_propose(actor=steward, contract=contract)
        contract.refresh_from_db()
        assert contract.status == "proposed"
        closed = pass_with(proposal, voters, "no")
        contract.refresh_from_db()
        assert closed.outcome == "failed" and closed.effect_status == "on_fail_applied" and contract.status == "draft"

    def test_dua_ratified(self, active_dua):
        assert active_dua.ratified_by.kind == "dua_ratification" and active_dua.activated_at


class TestPolicies:
    def test_pay_floor_by_median_score(self, steward):
        members = make_members(4)
        proposal = services.proposal_create(actor=steward, kind="pay_floor_change", title="Pay floor 2026")
        for member, score in zip(members, ["21.00", "22.50", "24.00", "30.00"]):
            vote(proposal, member, score=score)
        closed = close(proposal)
        assert closed.outcome == "passed" and closed.result["value"] == "23.25"  # (22.50 + 24.00) / 2
        # In force from the moment the vote closed; the founding value before that.
        assert selectors.policy_current("pay_floor_hourly", at=closed.closed_at) == Decimal("23.25")
        assert selectors.policy_current("pay_floor_hourly", at=closed.closed_at - dt.timedelta(seconds=1)) == Decimal("20.00")
        row = selectors.policy_history("pay_floor_hourly").first()
        assert row.set_by_id == proposal.pk and row.effective_from == closed.closed_at
        assert "23.25" in closed.effect_detail

    def test_coop_fee_by_yes_no_on_a_proposed_value(self, steward, voters):
        with pytest.raises(ApplicationError) as excinfo:
            services.proposal_create(
                actor=steward, kind="coop_fee_change", title="Fee", method="yes_no", payload={"value": "0.9"}
            )
        assert "value" in excinfo.value.fields
        proposal = services.proposal_create(
            actor=steward, kind="coop_fee_change", title="Lower the fee", method="yes_no", payload={"value": "0.04"}
        )
        assert proposal.threshold == "majority"
        closed = pass_with(proposal, voters)
        assert selectors.policy_current("coop_fee_rate", at=closed.closed_at) == Decimal("0.04")

    def test_failed_policy_vote_changes_nothing(self, steward, voters):
        proposal = services.proposal_create(
            actor=steward, kind="pay_floor_change", title="Cut", method="yes_no", payload={"value": "10"}
        )
        closed = pass_with(proposal, voters, "no")
        assert closed.outcome == "failed" and closed.effect_status == "none"
        assert selectors.policy_current("pay_floor_hourly", at=closed.closed_at) == Decimal("20.00")


class TestMembership:
    def test_admission(self, steward, voters, applicant):
        proposal = services.proposal_create(
            actor=steward, kind="member_admission", title="Admit", membership=applicant.membership
        )
        assert proposal.secret
        pass_with(proposal, voters)
        applicant.membership.refresh_from_db()
        assert applicant.membership.status == "admitted"
        event = applicant.membership.events.first()
        assert event.actor is None and f"#{proposal.pk}" in event.reason

    def test_suspension_then_appeal_reinstates(self, steward, voters, member):
        proposal = services.suspension_propose(
            actor=steward,
            membership=member.membership,
            reason="Copied answers from a bot",
            evidence="Review of 40 answers, see ticket 12",
        )
        assert Notification.objects.filter(user=member, kind="governance.suspension_proposed").exists()
        pass_with(proposal, voters)
        member.membership.refresh_from_db()
        assert member.membership.status == "suspended" and "Copied answers" in member.membership.status_reason
        appeal = services.appeal_file(member=member, subject=member.membership, reason="The bot was a screen reader I need.")
        assert appeal.effect_key == "appeal_suspension" and appeal.decided_by == "members"
        closed = pass_with(appeal, voters)
        member.membership.refresh_from_db()
        assert closed.effect_status == "applied" and member.membership.status == "active"
        assert Notification.objects.filter(user=member, kind="governance.closed").exists()

    def test_steward_election_seats_the_elected(self, steward):
        candidates = make_members(3)
        extra = make_members(1)
        a, b, c = (m.membership for m in candidates)
        proposal = services.proposal_create(
            actor=steward,
            kind="steward_election",
            title="Board 2026",
            candidates=[a, b, c],
            seats=2,
            payload={"outgoing": [steward.membership.pk]},
        )
        assert proposal.method == "ranked" and proposal.secret and len(proposal.choices) == 3
        # 5 ballots, 2 seats: Droop quota 2; a and b both reach it in the first round.
        for voter, ranking in zip([steward, *candidates, *extra], [[a, b], [a, b], [b, a], [b, c], [c, a]]):
            vote(proposal, voter, ranking=[str(m.pk) for m in ranking])
        closed = close(proposal)
        assert closed.outcome == "passed", closed.result
        assert set(closed.result["elected"]) == {str(a.pk), str(b.pk)}
        stewards = set(Membership.objects.filter(is_steward=True).values_list("pk", flat=True))
        assert stewards == {a.pk, b.pk}  # the outgoing steward was not re-elected

    def test_bylaw_and_general_motion_are_recorded_only(self, steward, voters):
        bylaw = services.proposal_create(actor=steward, kind="bylaw_amendment", title="Art. 4", body="Members meet twice a year.")
        assert pass_with(bylaw, voters).effect_status == "recorded"
        assert pass_with(motion(steward), voters).effect_status == "recorded"


class TestRegistry:
    def test_unregistered_effect_is_recorded_not_crashed(self, steward, voters, member, organization):
        subject = rejected_work(member)
        with effects.overridden("appeal_rejection", None), effects.overridden("rate_cut_relaunch", None):
            appeal = services.appeal_file(member=member, subject=subject, reason="My transcription matches the image.")
            relaunch = services.proposal_create(
                actor=None, kind="rate_cut_relaunch", title="Relaunch at 0.08", subject=organization
            )
            closed = [pass_with(appeal, voters), pass_with(relaunch, voters, "no")]
        assert closed[0].outcome == "passed" and closed[0].effect_status == "not_registered"
        assert "appeal_rejection" in closed[0].effect_detail
        assert closed[1].outcome == "failed" and closed[1].effect_status == "none"  # no on-fail hook: nothing to do

    def test_registered_effect_runs_in_the_closing_transaction(self, steward, voters, member):
        subject = rejected_work(member)
        seen = []

        def accept_and_pay(proposal):
            seen.append((proposal.subject, proposal.payload["answer_value"], Proposal.objects.get(pk=proposal.pk).status))
            return "Answer accepted and paid."

        with effects.overridden("appeal_rejection", accept_and_pay):
            appeal = services.appeal_file(
                member=member, subject=subject, reason="My transcription matches the image.", payload={"answer_value": "INV-0042"}
            )
            closed = pass_with(appeal, voters)
        assert seen == [(subject, "INV-0042", "closed")]
        assert closed.effect_status == "applied" and closed.effect_detail == "Answer accepted and paid."
        decision = Notification.objects.get(user=member, kind="governance.closed", title__startswith="Decision:")
        assert decision.body == "Answer accepted and paid."

    def test_rate_cut_relaunch_effect_and_on_fail_hook(self, steward, voters, organization):
        released, kept = [], []
        with effects.overridden(
            "rate_cut_relaunch",
            lambda p: released.append(p.subject) or "Released.",
            on_fail=lambda p: kept.append(p.subject) or "Stays held.",
        ):
            passing = services.proposal_create(
                actor=None, kind="rate_cut_relaunch", title="Relaunch at 0.08", subject=organization
            )
            pass_with(passing, voters)
            failing = services.proposal_create(
                actor=None, kind="rate_cut_relaunch", title="Relaunch at 0.05", subject=organization
            )
            closed = pass_with(failing, voters, "no")
        assert released == [organization] and kept == [organization]
        assert closed.effect_status == "on_fail_applied" and closed.effect_detail == "Stays held."

    def test_a_failing_effect_is_recorded_and_rolled_back(self, steward, voters, member):
        subject = rejected_work(member)

        def broken(proposal):
            notification_send(user=member, kind="half-done", title="written before the crash")
            raise RuntimeError("payment service down")

        with effects.overridden("appeal_rejection", broken):
            appeal = services.appeal_file(member=member, subject=subject, reason="My transcription matches the image.")
            closed = pass_with(appeal, voters)
        assert closed.status == "closed" and closed.outcome == "passed"
        assert closed.effect_status == "failed" and "payment service down" in closed.effect_detail
        assert not Notification.objects.filter(kind="half-done").exists()

    def test_registering_a_second_effect_for_a_key_is_refused(self):
        with pytest.raises(ValueError):
            effects.register_effect("suspension")(lambda proposal: "another")
        assert effects.effect_for("suspension").__name__ == "_suspend"


def test_effects_of_marketplace_kinds_are_not_built_in():
    keys = effects.registered_keys()
    assert "appeal_suspension" in keys["effects"] and "contract_ratification" in keys["on_fail"]
    for key in ("appeal_rejection", "rate_cut_relaunch"):
        assert key not in keys["effects"] or effects.effect_for(key).__module__.startswith("marketplace")


def test_policy_seed_values(db):
    assert selectors.policy_current("pay_floor_hourly") == Decimal("20.00")
    assert selectors.policy_current("coop_fee_rate") == Decimal("0.05")
    assert selectors.policy_current("proposal_cosponsors") == 3
    assert selectors.policy_current("proxy_limit") == 5
    assert selectors.policy_current("interim_suspension_days") == 7
    assert selectors.policy_current("appeal_window_days") == 14
    from governance.rules import POLICIES

    # Every co-op rule has exactly one founding value (the migrations seed them), none set by anyone.
    founding = list(PolicyValue.objects.filter(set_by__isnull=True).values_list("key", flat=True))
    assert sorted(founding) == sorted(POLICIES)
    assert not Contract.objects.exists()
    with pytest.raises(ApplicationError) as excinfo:
        services.policy_set(key="pay_floor_hourly", value="25", proposal=None)
    assert excinfo.value.code == "vote_required"
