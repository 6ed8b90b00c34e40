"""Client projects: create, update while draft, and the moves of the lifecycle in services/lifecycle.py (which says who may make each)."""

from __future__ import annotations

import secrets
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from coop.errors import ApplicationError, Conflict
from coop.jobs import enqueue_on_commit
from coop.models import ClientOrganization, User
from coop.services.notifications import publish_to_user
from coop.validation import decimal_or_error, require_steward
from governance.error_codes import GovernanceErrorCode
from marketplace.error_codes import MarketplaceErrorCode

from ..expert import project_terms
from ..models import Project, Task, TaskType
from ..pay import current_pay_floor, minimum_pay_per_task
from ..task_types import CHOICE_TYPES, validate_config
from . import lifecycle
from .pausing import _announce, _locked, project_pause
from .payment import adopt_measured_time, escrow_cover_owed, escrow_ensure, measured_seconds, project_settle
from .relaunch import relaunch_cut_of
from .webhooks import webhook_url_check

S = Project.Status
P = Project.PauseKind
EDITABLE = (
    "title",
    "instructions",
    "choices",
    "task_config",
    "case_sensitive",
    "overlap",
    "max_overlap",
    "agreement_target",
    "pay_per_task",
    "estimated_seconds",
    "sensitive_categories",
    "gold_ratio",
    "review_period_hours",
    "webhook_url",
    *project_terms.FIELDS,  # expert work: required qualifications and languages, minimum gold accuracy
)
SENSITIVE_CATEGORIES = ("violence", "sexual_content", "hate_speech", "self_harm", "medical", "personal_data", "disturbing_imagery")

def _decimal(value, *, field: str, places: int) -> Decimal:
    return decimal_or_error(value, field=field, places=places, message=f"'{field}' must be a decimal number.")


def _validated(fields: dict, *, task_type: str, choices_now=None) -> dict:
    """Clean editable fields for a project of `task_type` (`choices_now`: an existing project's choices)."""
    errors: dict[str, list[str]] = {}
    clean = dict(fields)
    if "title" in clean and not str(clean["title"] or "").strip():
        errors["title"] = ["Required."]
    if "instructions" in clean and not str(clean["instructions"] or "").strip():
        errors["instructions"] = ["Workers need instructions."]
    if "pay_per_task" in clean:
        clean["pay_per_task"] = _decimal(clean["pay_per_task"], field="pay_per_task", places=4)
        if clean["pay_per_task"] <= 0:
            errors["pay_per_task"] = ["Must be positive."]
    for key, places in (("agreement_target", 3), ("gold_ratio", 3)):
        if key in clean:
            clean[key] = _decimal(clean[key], field=key, places=places)
    if task_type in CHOICE_TYPES:
        choices = clean.get("choices")
        if choices is not None and (
            not isinstance(choices, list)
            or len(choices) < 2
            or len(choices) > 50
            or not all(isinstance(c, str) and c.strip() and len(c) <= 100 for c in choices)
            or len(set(choices)) != len(choices)
        ):
            errors["choices"] = ["Give 2 to 50 distinct text labels."]
    elif clean.get("choices"):
        errors["choices"] = ["Only classification and multi-label projects have choices."]
    if "task_config" in clean and not errors.get("choices"):
        try:
            clean["task_config"] = validate_config(task_type, clean["task_config"], clean.get("choices", choices_now))
        except ApplicationError as exc:
            errors.update(exc.fields or {"task_config": [exc.message]})
    if clean.get("webhook_url"):
        try:
            webhook_url_check(str(clean["webhook_url"]))
        except ApplicationError as exc:
            errors["webhook_url"] = [exc.message]
    unknown = set(clean.get("sensitive_categories") or []) - set(SENSITIVE_CATEGORIES)
    if unknown:
        errors["sensitive_categories"] = [f"Unknown: {', '.join(sorted(unknown))}. Known: {', '.join(SENSITIVE_CATEGORIES)}."]
    project_terms.clean_terms(clean, errors)
    if errors:
        raise ApplicationError("The project has errors.", fields=errors)
    return clean


@transaction.atomic
def project_create(*, organization: ClientOrganization, task_type: str, created_by: User | None = None, **fields) -> Project:
    if task_type not in TaskType.values:
        raise ApplicationError(f"Unknown task type {task_type!r}.", fields={"task_type": [f"One of {', '.join(TaskType.values)}."]})
    unknown = set(fields) - set(EDITABLE) - {"model_assisted"}
    if unknown:
        raise ApplicationError(f"Unknown fields: {', '.join(sorted(unknown))}.")
    if task_type in CHOICE_TYPES and not fields.get("choices"):
        raise ApplicationError(f"{TaskType(task_type).label} projects need 'choices'.", fields={"choices": ["Required."]})
    if task_type == TaskType.RUBRIC and not (fields.get("task_config") or {}).get("dimensions"):
        raise ApplicationError(
            "Rubric projects need 'task_config.dimensions': what to rate, each on a scale.", fields={"task_config.dimensions": ["Required."]}
        )
    fields.setdefault("task_config", {})
    clean = _validated(fields, task_type=task_type)
    qualifications = project_terms.pop_qualifications(clean)
    project = Project(organization=organization, task_type=task_type, created_by=created_by, **clean)
    if project.webhook_url:
        project.webhook_secret = secrets.token_hex(32)
    project.full_clean()
    project.save()
    if qualifications:
        project.required_qualifications.set(qualifications)
    return project


@transaction.atomic
def project_update(*, project: Project, **fields) -> Project:
    project = _locked(project)
    if project.status != S.DRAFT:
        raise Conflict("Only draft projects can be edited; pause and relaunch changes as a new project.", code=GovernanceErrorCode.NOT_DRAFT)
    unknown = set(fields) - set(EDITABLE)
    if unknown:
        raise ApplicationError(f"Unknown fields: {', '.join(sorted(unknown))}.")
    clean = _validated(fields, task_type=project.task_type, choices_now=project.choices)
    qualifications = project_terms.pop_qualifications(clean)
    for key, value in clean.items():
        setattr(project, key, value)
    if project.webhook_url and not project.webhook_secret:
        project.webhook_secret = secrets.token_hex(32)
    project.full_clean()
    project.save()
    if qualifications is not None:
        project.required_qualifications.set(qualifications)
    return project


@transaction.atomic
def project_publish(*, project: Project) -> Project:
    """The client publishes a draft, or resumes a project it paused (or that paused for money or the floor).

    Every publish check runs against today's rules either way (services/lifecycle.py);
    a pause by the members or a steward is not the client's to lift.
    """
    project = _locked(project)
    if project.status == S.PAUSED:
        lifecycle.transition_check(project, S.PUBLISHED, actor=lifecycle.CLIENT)
        return _resume(project)
    lifecycle.transition_check(project, S.PUBLISHED, actor=lifecycle.CLIENT)
    lifecycle.publish_checks(project)
    earlier = relaunch_cut_of(project)
    if earlier is not None:
        return _hold_for_vote(project, earlier)
    escrow_ensure(project, event_key=f"escrow_fund:publish:{project.pk}")
    project.published_at = timezone.now()
    return _go_live(project)


def _resume(project: Project) -> Project:
    """Paused → published: a publication against today's rules; escrow covers owed work and the rest, owed work is paid first."""
    lifecycle.publish_checks(project)
    escrow_ensure(project)
    project_settle(project)
    return _go_live(project)


def _go_live(project: Project) -> Project:
    project.status = S.PUBLISHED
    project.status_reason = ""
    project.pause_kind = ""
    project.save(update_fields=["status", "status_reason", "pause_kind", "published_at", "dua", "relaunch_of", "updated_at"])
    _announce(project, "published")
    return project


def _hold_for_vote(project: Project, earlier: Project) -> Project:
    """Publication of a cheaper relaunch waits for the members' vote (see services/relaunch.py)."""
    from .relaunch import relaunch_hold

    return relaunch_hold(project=project, earlier=earlier)


@transaction.atomic
def project_release_held(*, project: Project) -> Project:
    """The members allowed a held relaunch: fund it and publish (the checks run again: the floor may have moved)."""
    project = _locked(project)
    lifecycle.transition_check(project, S.PUBLISHED, actor=lifecycle.MEMBERS)
    lifecycle.publish_checks(project)
    escrow_ensure(project, event_key=f"escrow_fund:publish:{project.pk}")
    project.published_at = timezone.now()
    return _go_live(project)


@transaction.atomic
def project_return_to_draft(*, project: Project, reason: str) -> Project:
    """The members refused a held relaunch: back to draft, where the client can raise the pay and publish again."""
    project = _locked(project)
    if project.status != S.HELD:
        raise Conflict(f"A {project.status} project is not held.", code=MarketplaceErrorCode.INVALID_STATUS)
    lifecycle.transition_check(project, S.DRAFT, actor=lifecycle.MEMBERS)
    project.status = S.DRAFT
    project.status_reason = reason[:200]
    project.save(update_fields=["status", "status_reason", "updated_at"])
    return project


def _decision_reason(reason: str) -> str:
    reason = (reason or "").strip()
    if len(reason) < 10:
        raise ApplicationError("Give the reason for the decision (at least 10 characters); it is published.", fields={"reason": ["Required."]})
    return reason[:200]


@transaction.atomic
def project_pause_by_steward(*, project: Project, steward: User, reason: str) -> Project:
    """A steward pauses a project (e.g. harmful content); only a steward's decision or a member vote lifts it. Logged."""
    from governance.services import log_write

    require_steward(steward, "Only stewards can pause a client's project.", system=True)
    reason = _decision_reason(reason)
    project = project_pause(project=project, reason=f"Paused by a steward: {reason}", by=P.STEWARD)
    log_write(actor=steward, action="project.paused", summary=f"Paused project “{project.title}”: {reason}", obj=project)
    return project


@transaction.atomic
def project_resume_by_decision(*, project: Project, steward: User | None, reason: str) -> Project:
    """A steward's decision (or, with steward=None, a passed member vote) lifts any pause, after every publish check. Logged."""
    from governance.services import log_write

    require_steward(steward, "Only a steward's decision or a member vote can resume this project.", system=True)
    reason = _decision_reason(reason)
    project = _locked(project)
    lifecycle.transition_check(project, S.PUBLISHED, actor=lifecycle.STEWARD if steward is not None else lifecycle.MEMBERS)
    project = _resume(project)
    log_write(actor=steward, action="project.resumed", summary=f"Resumed project “{project.title}”: {reason}", obj=project)
    return project


@transaction.atomic
def project_resume_propose(*, project: Project, statement: str, member: User | None = None):
    """Ask the members to lift a pause by the members or a steward: opens a "project_resume" vote.

    The client (member None) or an active member says what changed; the vote is open to
    every member. Passed, it resumes the project after every publish check
    (governance_hooks.resume_paused_project); failed, the pause stands. One
    open vote per project ("already_open", as for any proposal about one subject).
    """
    from governance.models import ProposalKind
    from governance.services import proposal_create
    from governance.services.initiative import active_membership

    if member is not None:
        active_membership(member, action="ask for a project to resume")
    statement = (statement or "").strip()
    if len(statement) < 20:
        raise ApplicationError(
            "Say what changed since the pause (at least 20 characters); the members read it before they vote.",
            fields={"statement": ["Required."]},
        )
    project = _locked(project)
    if project.status != S.PAUSED:
        raise Conflict(f"Only a paused project can be put to a resume vote; this one is {project.status}.", code=MarketplaceErrorCode.INVALID_STATUS)
    if project.pause_kind not in (P.MEMBERS, P.STEWARD):
        raise Conflict("You can resume this project yourself: publish it again.", code=MarketplaceErrorCode.RESUME_NEEDS_NO_VOTE)
    proposal = proposal_create(
        actor=None,
        kind=ProposalKind.PROJECT_RESUME,
        subject=project,
        title=f"Resume “{project.title}” ({project.organization.name})?",
        body=(
            f"It was paused: {project.status_reason}\n\n"
            f"{'The client' if member is None else 'A member'} "
            f"asks to resume it: {statement[:4000]}\n\nVote yes to resume it (every publish check runs again: "
            "pay floor, rate card, data-use agreement, escrow); no keeps it paused."
        ),
        payload={"project_id": project.pk, "pause_kind": project.pause_kind, "statement": statement[:4000]},
    )
    return proposal


@transaction.atomic
def project_cancel(*, project: Project) -> Project:
    """Cancel: no new leases; answers already submitted are still reviewed and paid."""
    project = _locked(project)
    if project.status in (S.COMPLETED, S.CANCELLED, S.CLOSED):
        raise Conflict(f"The project is already {project.status}.", code=MarketplaceErrorCode.INVALID_STATUS)
    lifecycle.transition_check(project, S.CANCELLED, actor=lifecycle.CLIENT)
    if project.status == S.HELD:
        from .relaunch import relaunch_withdraw

        relaunch_withdraw(project=project)
    escrow_cover_owed(project)  # owed work is paid even when the client walks away
    project.status = S.CANCELLED
    project.completed_at = timezone.now()
    project.save(update_fields=["status", "completed_at", "updated_at"])
    _announce(project, "cancelled")
    enqueue_on_commit("project_closed", project.pk)
    return project


@transaction.atomic
def project_complete_if_done(*, project_id: int) -> bool:
    """Mark a published project completed when every regular task has a label. Idempotent."""
    from .webhooks import webhook_enqueue

    project = Project.objects.select_for_update().get(pk=project_id)
    if project.status != S.PUBLISHED:
        return False
    if Task.objects.filter(project=project, is_gold=False).exclude(state=Task.State.ACCEPTED).exists():
        return False
    project.status = S.COMPLETED
    project.completed_at = timezone.now()
    project.save(update_fields=["status", "completed_at", "updated_at"])
    webhook_enqueue(project=project, event="project.completed", event_key="project.completed", payload={"project_id": project.pk})
    for user in project.organization.users.all():
        publish_to_user(user_id=user.pk, event={"kind": "project.completed", "project": project.pk})
    _announce(project, "completed")
    return True


@transaction.atomic
def project_pay_raise(*, project: Project, pay_per_task) -> Project:
    """The client raises the pay of a live or paused project (never lowers it); accepted work is topped up to it.

    This is how a project paused below a newly raised floor gets back: raise, then publish (resume).
    """
    project = _locked(project)
    if project.status not in (S.PUBLISHED, S.PAUSED):
        raise Conflict(f"A {project.status} project's pay cannot be raised here; edit the draft.", code=MarketplaceErrorCode.INVALID_STATUS)
    new_pay = _validated({"pay_per_task": pay_per_task}, task_type=project.task_type)["pay_per_task"]
    if new_pay <= project.pay_per_task:
        raise ApplicationError(
            f"Pay can only go up while work is live: it is {project.pay_per_task} per task.",
            code=MarketplaceErrorCode.PAY_NOT_RAISED,
            fields={"pay_per_task": [f"More than {project.pay_per_task}."]},
        )
    project.pay_per_task = new_pay
    adopt_measured_time(project, measured_seconds(project)[0])  # the posted hourly pay uses the measured time
    project.save(update_fields=["pay_per_task", "estimated_seconds", "time_measured", "updated_at"])
    escrow_ensure(project)  # insufficient funds: nothing changes (the transaction rolls back)
    project_settle(project)
    return project


def projects_pause_below_floor() -> int:
    """Pause every published project the pay floor now in force leaves behind, and tell its client. Idempotent.

    The feed and claims already skip them (services/eligibility.py); the pause makes it visible and
    lets the client come back by raising the pay and resuming.
    """
    from coop.services.notifications import notification_send_to_organization

    floor = None
    paused = 0
    for project in Project.objects.filter(status=S.PUBLISHED).select_related("organization"):
        floor = current_pay_floor() if floor is None else floor
        if project.effective_hourly_pay >= floor:
            continue
        minimum = minimum_pay_per_task(floor, project.estimated_seconds)
        reason = f"Pays {project.effective_hourly_pay}/hour, below the new pay floor of {floor}/hour: raise the pay to {minimum} per task, then resume."
        try:
            project_pause(project=project, reason=reason, by=P.FLOOR)
        except ApplicationError:
            continue  # moved on meanwhile
        notification_send_to_organization(
            organization=project.organization,
            kind="project.below_floor",
            title=f"“{project.title}” is paused: the members raised the pay floor",
            body=reason,
        )
        paused += 1
    return paused
