"""Member initiative and proxies under real concurrency (PostgreSQL, real threads, separate connections)."""

import pytest

from coop.errors import ApplicationError
from governance import services
from governance.models import Delegation, GovernanceLog, Proposal, Sponsorship
from tests import factories
from tests.concurrency import run_threads
from tests.conftest import requires_postgres

pytestmark = [requires_postgres, pytest.mark.django_db(transaction=True)]


def test_adversarial_eight_cosponsors_at_once_schedule_the_vote_exactly_once():
    author = factories.make_member()
    backers = [factories.make_member() for _ in range(8)]
    proposal = services.proposal_draft(author=author, kind="general_motion", title="Open the books", body="Monthly.")
    results, errors = run_threads(
        [lambda user=user: services.proposal_cosponsor(proposal=Proposal(pk=proposal.pk), user=user) for user in backers]
    )
    assert [e for e in errors if not isinstance(e, ApplicationError)] == []
    # The first three complete the count and open the vote; later ones find it no longer a draft.
    assert all(e.code == "not_a_draft" for e in errors)
    proposal.refresh_from_db()
    assert proposal.status == "open"
    assert Sponsorship.objects.filter(proposal=proposal).count() == 3
    assert GovernanceLog.objects.filter(action="proposal.opened", object_id=str(proposal.pk)).count() == 1
    assert proposal.electors.count() == 9


def test_adversarial_one_member_cosponsoring_from_eight_tabs_counts_once():
    author, backer = factories.make_member(), factories.make_member()
    proposal = services.proposal_draft(author=author, kind="general_motion", title="Open the books", body="Monthly.")
    results, errors = run_threads([lambda: services.proposal_cosponsor(proposal=Proposal(pk=proposal.pk), user=backer)] * 8)
    assert len(results) == 1
    assert [e.code for e in errors] == ["already_sponsored"] * 7
    assert Sponsorship.objects.filter(proposal=proposal).count() == 1


def test_adversarial_parallel_proxies_never_exceed_the_limit():
    delegate = factories.make_member()
    members = [factories.make_member() for _ in range(8)]
    results, errors = run_threads(
        [lambda user=user: services.delegation_set(user=user, delegate=delegate.membership) for user in members]
    )
    assert len(results) == 5  # policy proxy_limit, founding 5
    assert [e.code for e in errors] == ["proxy_limit_reached"] * 3
    assert Delegation.objects.filter(delegate=delegate.membership, revoked_at__isnull=True).count() == 5


def test_adversarial_a_member_naming_two_proxies_at_once_keeps_one():
    member = factories.make_member()
    a, b = factories.make_member(), factories.make_member()
    results, errors = run_threads(
        [lambda target=target: services.delegation_set(user=member, delegate=target.membership) for target in (a, b) * 3]
    )
    assert [e for e in errors if not isinstance(e, ApplicationError)] == []
    assert Delegation.objects.filter(delegator=member.membership, revoked_at__isnull=True).count() == 1
