"""Periodic jobs: closing due ballots (through a real dramatiq worker), reminders to non-voters, digests, DUA retention."""

import datetime as dt

import pytest
from django.utils import timezone

from coop.models import Notification
from coop.scheduler import periodic_jobs
from governance import services, tasks
from governance.models import GovernanceLog
from tests.conftest import join_queues

from .helpers import make_members, motion, vote


def test_governance_jobs_are_scheduled():
    names = {job.actor.actor_name: job.seconds for job in periodic_jobs()}
    assert names["governance_open_and_close_due"] == 60
    assert {"governance_remind_voters", "governance_send_digests", "governance_agreement_terms"} <= set(names)


def test_close_job_through_a_worker_closes_due_ballots_once(dramatiq_worker):
    from tests import factories

    steward = factories.make_steward()
    members = make_members(2)
    week_ago = timezone.now() - dt.timedelta(days=8)
    due = motion(steward, now=week_ago)  # opened a week ago: closes before now
    for m in members:
        vote(due, m, "yes", now=week_ago + dt.timedelta(hours=1))
    running = motion(steward, title="Still open")
    tasks.governance_open_and_close_due.send()
    tasks.governance_open_and_close_due.send()  # a duplicate run does nothing twice
    join_queues()
    due.refresh_from_db()
    running.refresh_from_db()
    assert due.status == "closed" and due.outcome == "passed" and due.effect_status == "recorded"
    assert running.status == "open"
    assert GovernanceLog.objects.filter(action="proposal.closed").count() == 1
    assert Notification.objects.filter(user=members[0], kind="governance.closed").count() == 1


@pytest.mark.django_db
class TestReminders:
    def test_only_non_voters_are_reminded_once(self, steward):
        voted, silent, digest_reader = make_members(3)
        proposal = motion(steward)
        secret = motion(steward, title="Secret one", secret=True)
        vote(proposal, voted, "yes")
        vote(secret, voted, "no")
        services.preference_set(user=digest_reader, daily_digest=True)
        Notification.objects.all().delete()
        too_early = proposal.closes_at - dt.timedelta(hours=30)
        assert services.proposals_remind_due(now=too_early) == 0
        day_before = proposal.closes_at - dt.timedelta(hours=23)
        sent = services.proposals_remind_due(now=day_before)
        reminded = set(Notification.objects.filter(kind="governance.reminder").values_list("user_id", "title"))
        assert reminded == {
            (silent.pk, f"Last day to vote: {proposal.title}"),
            (steward.pk, f"Last day to vote: {proposal.title}"),
            (silent.pk, f"Last day to vote: {secret.title}"),
            (steward.pk, f"Last day to vote: {secret.title}"),
        }
        assert sent == 4
        assert services.proposals_remind_due(now=day_before + dt.timedelta(minutes=5)) == 0
        assert Notification.objects.filter(kind="governance.reminder").count() == 4

    def test_digest_instead_of_per_event_notifications(self, steward):
        reader, other = make_members(2)
        services.preference_set(user=reader, daily_digest=True)
        proposal = motion(steward)
        assert not Notification.objects.filter(user=reader, kind="governance.opened").exists()
        assert Notification.objects.filter(user=other, kind="governance.opened").exists()
        later = timezone.now() + dt.timedelta(minutes=5)
        assert services.governance_digest_send(now=later) == 1
        digest = Notification.objects.get(user=reader, kind="governance.digest")
        assert f"New vote: {proposal.title}" in digest.body
        assert services.governance_digest_send(now=later + dt.timedelta(hours=1)) == 0  # once a day
        vote(proposal, reader, "yes")
        services.proposal_close(proposal=proposal, now=proposal.closes_at)
        assert services.governance_digest_send(now=proposal.closes_at + dt.timedelta(hours=1)) == 1
        assert "Closed: Adopt the code of conduct — passed" in Notification.objects.filter(kind="governance.digest").first().body

    def test_digest_skips_votes_already_cast_and_lists_drafts_to_back(self, steward):
        reader, author = make_members(2)
        services.preference_set(user=reader, daily_digest=True)
        cast = motion(steward, title="Already voted on")
        vote(cast, reader, "yes")
        services.proposal_draft(author=author, kind="general_motion", title="Back me", body="Please.")
        services.governance_digest_send(now=timezone.now() + dt.timedelta(minutes=5))
        body = Notification.objects.get(user=reader, kind="governance.digest").body
        assert "Already voted on" not in body and "Looking for co-sponsors: Back me" in body


@pytest.mark.django_db
def test_actors_call_their_services_with_the_real_clock(steward):
    voter, silent, reader = make_members(3)
    services.preference_set(user=reader, daily_digest=True)
    closing_soon = motion(steward, now=timezone.now() - dt.timedelta(days=6, hours=12))  # closes in 12 hours
    vote(closing_soon, voter, "yes")
    tasks.governance_remind_voters.fn()
    assert set(Notification.objects.filter(kind="governance.reminder").values_list("user_id", flat=True)) == {
        steward.pk,
        silent.pk,
    }
    tasks.governance_send_digests.fn()
    assert "Last day to vote" in Notification.objects.get(user=reader, kind="governance.digest").body
    tasks.governance_open_and_close_due.fn()
    tasks.governance_agreement_terms.fn()
    closing_soon.refresh_from_db()
    assert closing_soon.status == "open"
