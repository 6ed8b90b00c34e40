"""The project lifecycle, tried as a client (or a lone steward) trying to get around it.

One state machine (marketplace/services/lifecycle.py) says who may move a
project where; every way back to published re-runs today's publish checks.
"""

from decimal import Decimal

import pytest

from coop.errors import ApplicationError, Forbidden
from marketplace.models import Project
from marketplace.services import claiming, lifecycle, projects, voice
from marketplace.services.eligibility import published_projects_by_pay
from marketplace.task_feed import feed_projects
from tests import factories

pytestmark = pytest.mark.django_db


def _flag_until_paused(project, settings):
    settings.PROJECT_FLAG_THRESHOLD = 2
    for _ in range(2):
        worker = factories.make_member()
        claiming.work_next(worker=worker, project=project)
        voice.project_flag(member=worker, project=project, reason="harmful_content")
    return Project.objects.get(pk=project.pk)


def _raise_floor(hourly: str):
    """As a passed pay_floor_change vote records it (the vote itself is governance's to test)."""
    from django.utils import timezone

    from governance.models import PolicyValue

    PolicyValue.objects.create(key="pay_floor_hourly", value=Decimal(hourly), effective_from=timezone.now())


def test_adversarial_the_client_cannot_publish_its_way_out_of_a_members_pause(settings, steward):
    project = factories.make_project(tasks=5)
    paused = _flag_until_paused(project, settings)
    assert (paused.status, paused.pause_kind) == ("paused", "members")
    with pytest.raises(ApplicationError) as refused:
        projects.project_publish(project=paused)
    assert refused.value.code == "pause_needs_decision" and refused.value.status == 409
    # Nor by pausing and resuming "its own" pause, nor by a member who is not a steward.
    with pytest.raises(ApplicationError):
        projects.project_pause(project=paused)
    with pytest.raises(Forbidden):
        projects.project_resume_by_decision(project=paused, steward=factories.make_member(), reason="Looks fine to me now.")
    # A steward may, with a reason that is published.
    with pytest.raises(ApplicationError) as no_reason:
        projects.project_resume_by_decision(project=paused, steward=steward, reason="ok")
    assert "reason" in no_reason.value.fields
    resumed = projects.project_resume_by_decision(
        project=paused, steward=steward, reason="Reviewed the flagged items: the client removed them."
    )
    assert (resumed.status, resumed.pause_kind) == ("published", "")
    from governance.models import GovernanceLog

    assert GovernanceLog.objects.filter(action="project.resumed", object_id=str(project.pk)).exists()


def test_adversarial_a_client_pausing_first_does_not_dodge_the_members_flags(settings):
    project = factories.make_project(tasks=5)
    settings.PROJECT_FLAG_THRESHOLD = 2
    workers = [factories.make_member() for _ in range(2)]
    for worker in workers:
        claiming.work_next(worker=worker, project=project)
    projects.project_pause(project=project)  # the client sees flags coming and pauses itself
    for worker in workers:
        voice.project_flag(member=worker, project=Project.objects.get(pk=project.pk), reason="pay_too_low")
    paused = Project.objects.get(pk=project.pk)
    assert paused.pause_kind == "members"
    with pytest.raises(ApplicationError) as refused:
        projects.project_publish(project=paused)
    assert refused.value.code == "pause_needs_decision"


def test_adversarial_a_stewards_pause_is_lifted_only_by_a_steward_or_a_vote(steward):
    project = factories.make_project(tasks=2)
    with pytest.raises(Forbidden):
        projects.project_pause_by_steward(project=project, steward=factories.make_member(), reason="I do not like this client.")
    projects.project_pause_by_steward(project=project, steward=steward, reason="Harmful images reported by a member.")
    with pytest.raises(ApplicationError) as refused:
        projects.project_publish(project=project)
    assert refused.value.code == "pause_needs_decision"
    # A passed member vote (steward=None: the co-op itself) lifts it.
    resumed = projects.project_resume_by_decision(project=project, steward=None, reason="The members voted to resume it.")
    assert resumed.status == "published"


def test_adversarial_resuming_checks_todays_floor_and_the_client_must_raise_the_pay():
    project = factories.make_project(tasks=3, pay_per_task="0.10", estimated_seconds=12)  # 30.00/hour
    projects.project_pause(project=project)
    _raise_floor("40.00")
    with pytest.raises(ApplicationError) as refused:
        projects.project_publish(project=project)
    assert refused.value.code == "below_pay_floor" and refused.value.extra["minimum_pay_per_task"] == "0.1334"
    assert Project.objects.get(pk=project.pk).status == "paused"
    factories.deposit(project.organization, "50.00")
    projects.project_pay_raise(project=project, pay_per_task="0.1334")
    assert projects.project_publish(project=project).status == "published"


def test_adversarial_a_newly_raised_floor_takes_projects_off_the_feed_at_once():
    project = factories.make_project(tasks=3, pay_per_task="0.10", estimated_seconds=12)  # 30.00/hour
    member = factories.make_member()
    _raise_floor("35.00")
    # Before any job runs: not in the feed, and a direct claim is refused.
    assert project.pk not in [p.pk for p in published_projects_by_pay()]
    assert project.pk not in [p["project"].pk if isinstance(p, dict) else p.pk for p in feed_projects(worker=member)]
    assert claiming.work_next(worker=member, project=project).reason == "below_pay_floor"
    # The job pauses it for the client to see; the client comes back by paying the floor.
    assert projects.projects_pause_below_floor() == 1
    paused = Project.objects.get(pk=project.pk)
    assert (paused.status, paused.pause_kind) == ("paused", "floor")
    factories.deposit(project.organization, "50.00")
    projects.project_pay_raise(project=paused, pay_per_task="0.1167")
    resumed = projects.project_publish(project=paused)
    assert resumed.status == "published" and resumed.effective_hourly_pay == Decimal("35.01")
    assert claiming.work_next(worker=member, project=resumed).assignment is not None


def test_adversarial_sensitive_content_the_dua_does_not_name_cannot_be_published():
    organization = factories.make_organization()
    factories.make_active_dua(organization, sensitive_content_categories=["violence"])
    project = factories.make_project(organization, tasks=2, publish=False, sensitive_categories=["violence", "self_harm"])
    factories.fund_project(project)
    with pytest.raises(ApplicationError) as refused:
        projects.project_publish(project=project)
    assert refused.value.code == "dua_sensitive_not_covered" and refused.value.extra["uncovered_categories"] == ["self_harm"]
    # What the DUA names passes.
    covered = factories.make_project(organization, tasks=2, publish=False, sensitive_categories=["violence"])
    factories.fund_project(covered)
    assert projects.project_publish(project=covered).status == "published"


def test_adversarial_the_rate_card_is_enforced_and_named():
    organization = factories.make_organization()
    factories.make_active_dua(organization)  # its contract's rate card: 0.05 per task for every task type
    # 0.04 per 6 s task is 24.00/hour, above the floor, but below what the contract's card says.
    project = factories.make_project(organization, tasks=2, publish=False, pay_per_task="0.04", estimated_seconds=6)
    factories.fund_project(project)
    with pytest.raises(ApplicationError) as refused:
        projects.project_publish(project=project)
    assert refused.value.code == "below_rate_card" and refused.value.extra["rate_card_minimum"] == "0.05"
    assert "labeling contract" in refused.value.message


def test_adversarial_no_one_may_skip_the_machine():
    project = factories.make_project(tasks=1, publish=False)
    with pytest.raises(ApplicationError) as refused:
        lifecycle.transition_check(project, Project.Status.COMPLETED, actor=lifecycle.CLIENT)
    assert refused.value.code == "invalid_status"
    projects.project_cancel(project=project)
    for move in (projects.project_publish, projects.project_pause, projects.project_cancel):
        with pytest.raises(ApplicationError):
            move(project=project)


def test_books_closed_projects_end_closed():
    from marketplace.ledger.selectors import escrow_balance
    from marketplace.services.payment import project_close_books

    project = factories.make_project(tasks=2)
    projects.project_cancel(project=project)
    assert escrow_balance(project) > 0
    assert project_close_books(project_id=project.pk) is True
    closed = Project.objects.get(pk=project.pk)
    assert closed.status == "closed" and escrow_balance(closed) == Decimal(0)
    with pytest.raises(ApplicationError):
        projects.project_publish(project=closed)


def _vote(proposal, choice="yes"):
    from governance.models import Elector
    from governance.services import ballot_cast, proposal_close

    for elector in Elector.objects.filter(proposal=proposal).select_related("membership__user"):
        ballot_cast(proposal=proposal, user=elector.membership.user, choice=choice)
    proposal_close(proposal=proposal, now=proposal.closes_at)
    proposal.refresh_from_db()
    return proposal


def test_adversarial_the_client_asks_the_members_to_resume_and_only_their_vote_does(settings):
    from rest_framework.test import APIClient

    project = factories.make_project(tasks=5)
    paused = _flag_until_paused(project, settings)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {factories.org_token(project.organization)}")
    url = f"/api/v1/projects/{project.pk}/resume-vote/"
    short = api.post(url, {"statement": "fixed"}, format="json")
    assert short.status_code == 422 and "statement" in short.json()["error"]["fields"]
    asked = api.post(url, {"statement": "We removed the flagged images and re-checked the rest by hand."}, format="json")
    assert asked.status_code == 201, asked.content
    again = api.post(url, {"statement": "Please, we removed the flagged images, really."}, format="json")
    assert again.status_code == 409 and again.json()["error"]["code"] == "already_open"
    assert Project.objects.get(pk=paused.pk).status == "paused"  # asking is not resuming

    from governance.models import Proposal

    proposal = _vote(Proposal.objects.get(kind="project_resume"))
    assert (proposal.outcome, proposal.effect_status) == ("passed", "applied"), proposal.effect_message
    assert Project.objects.get(pk=project.pk).status == "published"


def test_adversarial_a_resume_vote_still_runs_todays_publish_checks(settings):
    from governance.models import Proposal

    project = factories.make_project(tasks=5, pay_per_task="0.10", estimated_seconds=12)  # 30.00/hour
    paused = _flag_until_paused(project, settings)
    projects.project_resume_propose(project=paused, statement="The flagged items are gone; please resume it.")
    _raise_floor("60.00")  # while the vote runs, the members raise the floor above what it pays
    proposal = _vote(Proposal.objects.get(kind="project_resume"))
    assert proposal.outcome == "passed" and proposal.effect_status == "failed"
    assert Project.objects.get(pk=project.pk).status == "paused"  # the vote cannot publish it below the floor


def test_a_failed_resume_vote_keeps_the_pause_and_a_client_pause_needs_no_vote(settings):
    from governance.models import Proposal

    project = factories.make_project(tasks=5)
    paused = _flag_until_paused(project, settings)
    projects.project_resume_propose(project=paused, statement="The flagged items are gone; please resume it.")
    assert _vote(Proposal.objects.get(kind="project_resume"), choice="no").outcome == "failed"
    assert Project.objects.get(pk=project.pk).status == "paused"

    own = projects.project_pause(project=factories.make_project(tasks=2))
    with pytest.raises(ApplicationError) as refused:
        projects.project_resume_propose(project=own, statement="We paused it ourselves, now we are back.")
    assert refused.value.code == "resume_needs_no_vote"
