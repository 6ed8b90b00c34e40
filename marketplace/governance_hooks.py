"""How the marketplace obeys the members' decisions (imported once, from MarketplaceConfig.ready()).

- Publication's checks (DUA, pay floor, rate card) are direct calls in
  services/lifecycle.py, not registered here: they hold without this module.
- A passed "project_resume" vote lifts a pause by the members or a steward.
- Results exports need a declared purpose the DUA permits, are refused after
  its retention period, and are logged against it.
- A cheaper relaunch of a recent project (services/relaunch.py) is held for a
  "rate_cut_relaunch" vote: passed, it is funded and published; failed or
  withdrawn, it returns to draft.
- A rejected answer's appeal becomes a governance appeal; if it passes the
  answer is accepted (and so paid), if it fails the rejection stands.
"""

from __future__ import annotations

from coop.errors import ApplicationError
from governance.effects import register_effect, register_on_fail
from governance.selectors import dua_covering
from governance.services import appeal_file, dua_check_export, dua_log_export

from .models import AcceptedLabel, Answer, Project, ReviewDecision
from .services import projects, review


def export_allowed(*, request, project: Project, purpose: str) -> None:
    """Results exports: a declared purpose the project's DUA permits, within retention; logged."""
    if not purpose:
        raise ApplicationError(
            "Declare the purpose of this export with ?purpose=… (it is checked against your data-use agreement).",
            code="purpose_required",
            status=400,
        )
    dua = project.dua or dua_covering(organization=project.organization, task_type=project.task_type)
    if dua is None:
        raise ApplicationError("No data-use agreement covers this project.", code="no_active_dua", status=403)
    dua_check_export(dua=dua, purpose=purpose)
    rows = AcceptedLabel.objects.filter(project=project).count()
    dua_log_export(dua=dua, organization=project.organization, purpose=purpose, project_id=project.pk, rows=rows)


def _open_governance_appeal(answer: Answer, reason: str) -> None:
    reviewers = [d.reviewer for d in ReviewDecision.objects.filter(answer=answer, accepted=False).select_related("reviewer")]
    appeal_file(
        member=answer.worker,
        subject=answer,
        reason=reason,
        appeal_type="rejection",
        payload={"answer_id": answer.pk, "project": answer.task.project.title},
        involved=[r for r in reviewers if r is not None],
    )


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


review.APPEAL_HOOKS.append(_open_governance_appeal)
