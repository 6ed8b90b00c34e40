"""Workers' voice: rating clients (Turkopticon-style) and flagging projects collectively.

Only members who worked for a client (or on a project) may rate (or flag)
it. When PROJECT_FLAG_THRESHOLD members have flagged a published project, it
is paused for review by the stewards and members, and the client is told why.
"""

from __future__ import annotations

from collections import Counter

from django.conf import settings
from django.db import IntegrityError, transaction

from coop.error_codes import CoopErrorCode
from coop.errors import ApplicationError, Conflict, Forbidden
from coop.models import ClientOrganization, User
from coop.services.notifications import notification_send
from marketplace.error_codes import MarketplaceErrorCode

from ..models import Assignment, ClientRating, Project, ProjectFlag
from .pausing import project_pause


def _require_worked(member: User, **filters) -> None:
    if not member.is_member:
        raise Forbidden("Only active members rate clients and flag projects.", code=CoopErrorCode.MEMBER_REQUIRED)
    if not Assignment.objects.filter(worker=member, **filters).exists():
        raise Forbidden("You can rate or flag only clients and projects you have worked on.", code=MarketplaceErrorCode.NOT_WORKED_HERE)


@transaction.atomic
def client_rate(*, member: User, organization: ClientOrganization, comment: str = "", **scores) -> ClientRating:
    """Rate a client on pay, fairness of review, clarity and communication (1–5 each); rating again updates it."""
    _require_worked(member, project__organization=organization)
    errors = {}
    for field in ClientRating.SCORES:
        value = scores.get(field)
        if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 5:
            errors[field] = ["A whole number from 1 to 5."]
    unknown = set(scores) - set(ClientRating.SCORES)
    if unknown:
        errors["non_field_errors"] = [f"Unknown scores: {', '.join(sorted(unknown))}."]
    if errors:
        raise ApplicationError("The rating has errors.", fields=errors)
    rating, _ = ClientRating.objects.update_or_create(
        organization=organization, member=member, defaults={**scores, "comment": (comment or "").strip()[:2000]}
    )
    return rating


@transaction.atomic
def project_flag(*, member: User, project: Project, reason: str, comment: str = "") -> ProjectFlag:
    """Flag a project you worked on. Past the threshold, a published project pauses for review."""
    _require_worked(member, project=project)
    if reason not in ProjectFlag.Reason.values:
        raise ApplicationError("Choose a reason for the flag.", fields={"reason": [f"One of {', '.join(ProjectFlag.Reason.values)}."]})
    try:
        with transaction.atomic():
            flag = ProjectFlag.objects.create(project=project, member=member, reason=reason, comment=(comment or "").strip()[:2000])
    except IntegrityError:
        raise Conflict("You have already flagged this project.", code=MarketplaceErrorCode.ALREADY_FLAGGED) from None
    reasons = Counter(ProjectFlag.objects.filter(project=project).values_list("reason", flat=True))
    # A project the client paused first still gets the members' pause: only a steward or a vote lifts that one.
    live_or_paused_by_client = project.status == Project.Status.PUBLISHED or (
        project.status == Project.Status.PAUSED and project.pause_kind not in (Project.PauseKind.MEMBERS, Project.PauseKind.STEWARD)
    )
    if sum(reasons.values()) >= settings.PROJECT_FLAG_THRESHOLD and live_or_paused_by_client:
        summary = ", ".join(f"{ProjectFlag.Reason(r).label.lower()} ({n})" for r, n in reasons.most_common())
        project_pause(project=project, reason=f"Paused after members' flags: {summary}"[:200], by=Project.PauseKind.MEMBERS)
        people = list(User.objects.filter(membership__is_steward=True, membership__status="active")) + list(
            project.organization.users.all()
        )
        for person in people:
            notification_send(
                user=person,
                kind="project.flagged",
                title=f"“{project.title}” was paused after members flagged it",
                body=summary,
                url=f"/work/projects/{project.pk}/" if person.is_steward else "",
            )
    return flag
