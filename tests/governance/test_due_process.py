"""Due process: suspensions need reason and evidence; appeals have a deadline, a panel option and one try per decision."""

import datetime as dt

import pytest

from coop import services as coop_services
from coop.errors import ApplicationError
from coop.models import Notification
from governance import services
from governance.models import GovernanceLog, Proposal
from tests import factories

from .helpers import close, make_members, vote

pytestmark = pytest.mark.django_db


def test_suspension_needs_reason_and_evidence(steward, member):
    with pytest.raises(ApplicationError) as excinfo:
        services.suspension_propose(actor=steward, membership=member.membership, reason="Bad", evidence="")
    assert excinfo.value.code == "reason_and_evidence_required" and set(excinfo.value.fields) == {"reason", "evidence"}
    assert not Proposal.objects.exists()
    with pytest.raises(ApplicationError) as excinfo:
        services.suspension_propose(
            actor=member, membership=steward.membership, reason="Abuse of power", evidence="Logs of 3 May"
        )
    assert excinfo.value.code == "steward_required"


def test_appeal_deadline_follows_the_setting(settings, steward, member):
    settings.GOVERNANCE_APPEAL_DAYS = 3
    coop_services.membership_suspend(membership=member.membership, actor=None, reason="Missed the code of conduct training")
    appeal = services.appeal_file(member=member, subject=member.membership, reason="I attended; here is the certificate.")
    assert appeal.closes_at - appeal.opens_at == dt.timedelta(days=3)
    assert appeal.secret and appeal.created_by == member
    assert Notification.objects.filter(user=member, kind="governance.appeal_filed").exists()


def test_panel_mode_draws_uninvolved_members(settings, steward, member):
    settings.GOVERNANCE_APPEAL_MODE = "panel"
    settings.GOVERNANCE_APPEAL_PANEL_SIZE = 3
    others = make_members(5)
    second = factories.make_steward()
    interim = services.interim_suspension_request(
        actor=steward, membership=member.membership, ground="safety", evidence="Shared another member's address outside the co-op."
    )
    services.interim_suspension_confirm(actor=second, interim=interim)
    appeal = services.appeal_file(
        member=member, subject=member.membership, reason="It was a redacted example I was asked to share."
    )
    panel = set(appeal.electors.values_list("membership_id", flat=True))
    assert appeal.decided_by == "panel" and appeal.electorate_size == 3 and len(panel) == 3
    # Neither the appellant nor either steward who suspended them sits on the panel.
    assert not panel & {member.membership.pk, steward.membership.pk, second.membership.pk}
    assert panel <= {m.membership.pk for m in others}
    drawn = GovernanceLog.objects.get(action="appeal.panel_drawn")
    assert sorted(drawn.data["panel"]) == sorted(panel)
    outsider = next(m for m in others if m.membership.pk not in panel)
    with pytest.raises(ApplicationError) as excinfo:
        vote(appeal, outsider, "yes")
    assert excinfo.value.code == "not_eligible"
    panelists = [m for m in others if m.membership.pk in panel]
    vote(appeal, panelists[0], "yes")
    vote(appeal, panelists[1], "yes")  # 2 of 3 voted: more than half
    closed = close(appeal)
    member.membership.refresh_from_db()
    assert closed.outcome == "passed" and member.membership.status == "active"


def test_one_appeal_per_decision(steward, member, voters):
    with pytest.raises(ApplicationError) as excinfo:
        services.appeal_file(member=member, subject=member.membership, reason="I am not even suspended, just checking.")
    assert excinfo.value.code == "not_suspended"
    coop_services.membership_suspend(membership=member.membership, actor=None, reason="Spam in the forum")
    appeal = services.appeal_file(
        member=member, subject=member.membership, reason="Those were announcements I was asked to post."
    )
    with pytest.raises(ApplicationError) as excinfo:
        services.appeal_file(member=member, subject=member.membership, reason="Appealing twice to be sure of it.")
    assert excinfo.value.code == "already_open"
    for v in voters:
        vote(appeal, v, "no")
    assert close(appeal).outcome == "failed"
    with pytest.raises(ApplicationError) as excinfo:
        services.appeal_file(member=member, subject=member.membership, reason="Trying again after losing the vote.")
    assert excinfo.value.code == "already_appealed"


def test_only_the_member_concerned_appeals(steward, member):
    other = make_members(1)[0]
    coop_services.membership_suspend(membership=member.membership, actor=None, reason="Spam in the forum")
    with pytest.raises(ApplicationError) as excinfo:
        services.appeal_file(member=other, subject=member.membership, reason="Appealing on behalf of a friend.")
    assert excinfo.value.code == "not_your_decision"
    with pytest.raises(ApplicationError) as excinfo:
        services.appeal_file(member=member, subject=member.membership, reason="short")
    assert excinfo.value.code == "reason_required"
