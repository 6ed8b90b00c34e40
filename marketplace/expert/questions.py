"""Project questions and amended instructions: members ask in a thread on the project, the client answers for all.

Members see every question and answer of a project they may work on; the client sees the askers only as the
pseudonyms of its exports. The client may amend a live project's instructions: the old text is kept as a
numbered version and members see what changed. Notifications follow each member's choice: immediately, or
kept quietly in their inbox for those who chose the daily digest.
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import Max
from django.urls import reverse
from django.utils import timezone

from coop.error_codes import CoopErrorCode
from coop.errors import ApplicationError, Conflict, Forbidden, NotFound
from coop.models import ClientOrganization, Notification, User
from coop.validation import check_text
from marketplace.error_codes import MarketplaceErrorCode

from ..models import Assignment, Project
from .models import InstructionsVersion, ProjectQuestion

MAX_QUESTION = 4000
LIVE = (Project.Status.PUBLISHED, Project.Status.PAUSED)


def _text(value, *, field: str, minimum: int, maximum: int) -> str:
    text = check_text((value or "").strip(), field=field)
    if not minimum <= len(text) <= maximum:
        raise ApplicationError(f"Write {minimum} to {maximum} characters.", fields={field: ["Length."]})
    return text


def _notify(users, *, kind: str, title: str, body: str, url: str) -> None:
    """Immediate notification, or kept quietly in the inbox for members who chose the daily digest."""
    from coop.services.notifications import notification_send
    from governance.models import NotificationPreference

    users = list({u.pk: u for u in users}.values())
    digest = set(NotificationPreference.objects.filter(daily_digest=True, user__in=[u.pk for u in users]).values_list("user_id", flat=True))
    for user in users:
        if user.pk in digest:
            Notification.objects.create(user=user, kind=kind, title=title[:200], body=body, url=url)
        else:
            notification_send(user=user, kind=kind, title=title[:200], body=body, url=url)


def workers_of(project: Project):
    return User.objects.filter(pk__in=Assignment.objects.filter(project=project).values("worker_id"))


def question_ask(*, member: User, project: Project, body: str) -> ProjectQuestion:
    if not member.is_member:
        raise Forbidden("Only members ask about a project's instructions.", code=CoopErrorCode.MEMBER_REQUIRED)
    if project.status not in LIVE:
        raise NotFound("No such project.")
    body = _text(body, field="body", minimum=5, maximum=MAX_QUESTION)
    question = ProjectQuestion.objects.create(project=project, asked_by=member, body=body)
    from coop.services.notifications import notification_send_to_organization

    notification_send_to_organization(
        organization=project.organization, kind="project.question", title=f"A member asks about “{project.title}”", body=body[:500],
        url=reverse("marketplace:console_questions", kwargs={"pk": project.pk}),
    )
    return question


@transaction.atomic
def question_answer(*, organization: ClientOrganization, question_id: int, answer: str, user: User | None = None) -> ProjectQuestion:
    """The client answers (or corrects its answer); every member who worked on the project and the asker are told."""
    question = ProjectQuestion.objects.select_for_update(of=("self",)).select_related("project").filter(pk=question_id).first()
    if question is None or question.project.organization_id != organization.pk:
        raise NotFound("No such question.")
    question.answer = _text(answer, field="answer", minimum=2, maximum=MAX_QUESTION)
    question.answered_at = timezone.now()
    question.answered_by = user if user is not None and user.pk else None
    question.save(update_fields=["answer", "answered_at", "answered_by"])
    project = question.project
    _notify(
        [question.asked_by, *workers_of(project)], kind="project.question_answered",
        title=f"The client answered a question about “{project.title}”", body=f"Q: {question.body[:300]}\nA: {question.answer[:1000]}",
        url=reverse("marketplace:project", kwargs={"pk": project.pk}),
    )
    return question


@transaction.atomic
def instructions_amend(*, organization: ClientOrganization, project: Project, instructions: str, note: str) -> InstructionsVersion:
    """Amend a live project's instructions: the old text is kept as a version, members who worked on it are told what changed."""
    project = Project.objects.select_for_update().get(pk=project.pk)
    if project.organization_id != organization.pk:
        raise NotFound("No such project.")
    if project.status not in LIVE:
        raise Conflict("Edit a draft's instructions directly; a finished project's instructions stay as they were.", code=MarketplaceErrorCode.INVALID_STATUS)
    instructions = _text(instructions, field="instructions", minimum=1, maximum=50_000)
    note = _text(note, field="note", minimum=5, maximum=500)
    if instructions == project.instructions:
        raise ApplicationError("The instructions did not change.", fields={"instructions": ["Unchanged."]})
    number = (InstructionsVersion.objects.filter(project=project).aggregate(n=Max("version"))["n"] or 0) + 1
    version = InstructionsVersion.objects.create(project=project, version=number, instructions=project.instructions, note=note)
    project.instructions = instructions
    project.save(update_fields=["instructions", "updated_at"])
    _notify(
        workers_of(project), kind="project.instructions_amended", title=f"The instructions of “{project.title}” changed",
        body=note, url=reverse("marketplace:project", kwargs={"pk": project.pk}),
    )
    return version


def instructions_history(project: Project) -> list[dict]:
    """Each amendment, newest first, with a word-level diff from the text before to the text after."""
    import difflib

    versions = list(InstructionsVersion.objects.filter(project=project).order_by("version"))
    texts = [v.instructions for v in versions] + [project.instructions]
    rows = []
    for index, version in enumerate(versions):
        before, after = texts[index].split(), texts[index + 1].split()
        diff = [("-" if tag in ("replace", "delete") else None, " ".join(before[i1:i2]), "+" if tag in ("replace", "insert") else None, " ".join(after[j1:j2]))
                for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, before, after, autojunk=False).get_opcodes() if tag != "equal"]
        rows.append({"version": version, "changes": [{"removed": r, "added": a} for _, r, _, a in diff]})
    return list(reversed(rows))


def questions_for_client(project: Project) -> list[dict]:
    from ..pseudonyms import worker_pseudonym

    return [
        {"id": q.pk, "asked_by": worker_pseudonym(organization_id=project.organization_id, worker_id=q.asked_by_id), "body": q.body,
         "asked_at": q.asked_at, "answer": q.answer, "answered_at": q.answered_at}
        for q in ProjectQuestion.objects.filter(project=project).order_by("asked_at", "id")
    ]
