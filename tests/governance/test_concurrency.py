"""One member, one vote under real concurrency (PostgreSQL, real threads, separate connections)."""

import datetime as dt
import threading
import time

import pytest
from django.db import connection

from coop.errors import ApplicationError
from governance import services
from governance.models import GovernanceLog, Participation, Proposal, SealedBallot, SecretBallot, Vote, VoteHistory
from tests import factories
from tests.conftest import requires_postgres

from .helpers import close, motion

THREADS = 8


def _race(proposal, user, choices):
    barrier = threading.Barrier(len(choices))
    outcomes, errors = [], []

    def cast(choice):
        try:
            barrier.wait()
            outcomes.append(services.ballot_cast(proposal=Proposal(pk=proposal.pk), user=user, choice=choice))
        except ApplicationError as error:
            errors.append(error)
        except Exception as exc:  # noqa: BLE001 - anything else is a failure, reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=cast, args=(choice,)) for choice in choices]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes, errors


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_named_votes_of_one_member_leave_one_vote_and_a_full_history():
    steward = factories.make_steward()
    member = factories.make_member()
    proposal = motion(steward)
    choices = ["yes", "no"] * (THREADS // 2)
    outcomes, errors = _race(proposal, member, choices)
    assert errors == []
    assert Vote.objects.filter(proposal=proposal).count() == 1
    vote = Vote.objects.get(proposal=proposal)
    # Exactly one insert won; every other call became a change (or was the same vote again).
    assert sum(1 for o in outcomes if o.recorded and not o.changed) == 1
    history = list(VoteHistory.objects.filter(vote=vote).order_by("revision").values_list("revision", "choice"))
    assert [r for r, _ in history] == list(range(1, vote.revision + 1))
    assert history[-1][1] == vote.choice
    assert close(proposal).result["quorum"]["voted"] == 1


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_secret_votes_of_one_member_count_once():
    steward = factories.make_steward()
    member = factories.make_member()
    proposal = motion(steward, secret=True)
    outcomes, errors = _race(proposal, member, ["yes"] * (THREADS // 2) + ["no"] * (THREADS // 2))
    assert len(outcomes) == 1
    assert len(errors) == THREADS - 1 and all(getattr(e, "code", None) == "already_voted" for e in errors), errors
    assert Participation.objects.filter(proposal=proposal).count() == 1
    assert SealedBallot.objects.filter(proposal=proposal).count() == 1
    assert GovernanceLog.objects.filter(action="vote.cast", object_id=str(proposal.pk)).count() == 1
    assert close(proposal).result["counts"][SecretBallot.objects.get(proposal=proposal).choice] == 1


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_votes_racing_the_close_are_either_counted_or_refused():
    steward = factories.make_steward()
    members = [factories.make_member() for _ in range(6)]
    proposal = motion(steward)
    late = proposal.closes_at  # vote at the closing instant is refused; this checks the lock, not the clock
    barrier = threading.Barrier(len(members) + 1)
    accepted, refused = [], []

    def cast(user):
        try:
            barrier.wait()
            services.ballot_cast(proposal=Proposal(pk=proposal.pk), user=user, choice="yes", now=late - dt.timedelta(seconds=1))
            accepted.append(user.pk)
        except ApplicationError as error:
            refused.append(error.code)
        finally:
            connection.close()

    def closer():
        try:
            barrier.wait()
            for _ in range(200):  # skip-locked: retried while votes hold the row, as the periodic job would
                if services.proposal_close(proposal=Proposal(pk=proposal.pk), now=late) is not None:
                    break
                time.sleep(0.01)
        finally:
            connection.close()

    threads = [threading.Thread(target=cast, args=(m,)) for m in members] + [threading.Thread(target=closer)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    proposal.refresh_from_db()
    assert proposal.status == "closed"
    assert set(refused) <= {"ballot_closed"}
    # Every vote that committed was counted: the tally and the rows agree.
    assert proposal.result["counts"]["yes"] == len(accepted) == Vote.objects.filter(proposal=proposal).count()
