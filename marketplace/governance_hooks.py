"""How the marketplace obeys the members' decisions (imported once, from MarketplaceConfig.ready()).

The rules themselves are direct calls from the services, not registered here,
so they hold without this module: publication's checks (DUA, pay floor, rate
card) in services/lifecycle.py, the DUA check on every release of labels in
services/exports.py, appeals filed as governance appeals in services/review.py.
What stays here are the effects of votes (governance cannot import the
marketplace, so it calls these by key):

- A passed "project_resume" vote lifts a pause by the members or a steward.
- A cheaper relaunch of a recent project (services/relaunch.py) is held for a
  "rate_cut_relaunch" vote: passed, it is funded and published; failed or
  withdrawn, it returns to draft.
- A rejected answer's appeal (a governance appeal): if it passes the answer is
  accepted (and so paid), if it fails the rejection stands.
"""

from __future__ import annotations

from governance.effects import register_effect, register_on_fail

from .models import Project
from .services import projects, review


@register_effect("appeal_rejection")
def accept_appealed_answer(proposal) -> str:
    answer = proposal.subject
    review.answer_appeal_decide(decider=None, answer=answer, overturn=True, note="The members upheld your appeal.")
    return f"Answer {answer.pk} accepted and paid."


@register_on_fail("appeal_rejection")
def keep_rejection(proposal) -> str:
    answer = proposal.subject
    review.answer_appeal_decide(decider=None, answer=answer, overturn=False, note="The members did not uphold the appeal.")
    return f"Rejection of answer {answer.pk} stands."


@register_effect("rate_cut_relaunch")
def publish_held_relaunch(proposal) -> str:
    project = projects.project_release_held(project=proposal.subject)
    return f"Project {project.pk} funded and published at {project.currency} {project.effective_hourly_pay}/hour."


@register_effect("project_resume")
def resume_paused_project(proposal) -> str:
    project = projects.project_resume_by_decision(
        project=proposal.subject, steward=None, reason=f"The members voted to resume it (proposal {proposal.pk})."
    )
    return f"Project {project.pk} resumed at {project.currency} {project.effective_hourly_pay}/hour."


@register_on_fail("rate_cut_relaunch")
def return_relaunch_to_draft(proposal) -> str:
    project = proposal.subject
    if project.status != Project.Status.HELD:
        return f"Project {project.pk} is {project.status}; nothing to do."
    projects.project_return_to_draft(
        project=project, reason="The members did not agree to the lower rate: pay at least the earlier rate to publish."
    )
    return f"Project {project.pk} returned to draft."

