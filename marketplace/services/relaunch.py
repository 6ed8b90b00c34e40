"""Rate-cut relaunch protection: a cheaper copy of a recent project is held for a member vote.

The pattern this stops: a client ends a project and moves its workers to an
identical one at a lower rate ($21/hour → $16/hour overnight). Here, when a
client publishes a project that is *near-identical* to one of its own
projects published in the last RELAUNCH_WINDOW_DAYS days, at a lower
effective hourly pay, publication is held and the members vote (a governance
proposal of kind "rate_cut_relaunch"). If they agree, the project is funded
and published; if not, it returns to draft, where the client can pay at least
the earlier rate, which publishes without a vote.

Near-identical (all of):
* the same task type;
* instructions at least INSTRUCTIONS_SIMILARITY alike: difflib's ratio over
  the lower-cased word sequences, so reflowed text, changed case or
  punctuation do not hide a copy, while a genuinely different brief does not
  match;
* the same work: the same answer space (classification: as many choices,
  whatever they are called or in whatever order; OCR: the same case rule;
  pairwise: always), or the same items: at least ID_OVERLAP of a sample of the
  new project's items already in the earlier project, by content hash (data
  values and image bytes, so new ids or renamed fields do not hide them) or by
  external id.
A cut is a lower pay per task for that work (whatever time per task the new
project claims), or a lower posted hourly pay. What the earlier project paid
per hour is stated at its *measured* median active time when it has enough
accepted answers (the client's estimate only otherwise). A pay raise, a
different client, another task type or a project older than the window never
holds.
"""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal
from difflib import SequenceMatcher

from django.utils import timezone

from coop.models import User
from coop.services.notifications import notification_send_to_organization

from ..models import Project, Task

RELAUNCH_WINDOW_DAYS = 180
INSTRUCTIONS_SIMILARITY = 0.8
ID_OVERLAP = 0.2
SCHEMA_SAMPLE = 50
ID_SAMPLE = 1000
MAX_CANDIDATES = 50
S = Project.Status
WORD = re.compile(r"\w+")


def _words(text: str) -> list[str]:
    return WORD.findall((text or "").lower())


def instructions_similarity(a: str, b: str) -> float:
    """0..1: how alike two instruction texts are, word by word."""
    words_a, words_b = _words(a), _words(b)
    if not words_a and not words_b:
        return 1.0
    return SequenceMatcher(None, words_a, words_b, autojunk=False).ratio()


def answer_space(project: Project) -> tuple:
    """What answers can be, names aside: classification by the number of choices, OCR by its case rule."""
    if project.task_type == "classification":
        return (project.task_type, len(project.choices or []))
    if project.task_type == "ocr":
        return (project.task_type, project.case_sensitive)
    return (project.task_type,)


def _sample(new: Project, field: str) -> list[str]:
    rows = Task.objects.filter(project=new, is_gold=False).exclude(**{field: ""}).order_by("pk").values_list(field, flat=True)
    return list(rows[:ID_SAMPLE])


def item_overlap(new: Project, old: Project, *, field: str) -> float:
    """Share of a sample of the new project's items the old project also had, by `field` (content_hash or external_id)."""
    sample = _sample(new, field)
    if not sample:
        return 0.0
    return Task.objects.filter(project=old, **{f"{field}__in": sample}).count() / len(sample)


def id_overlap(new: Project, old: Project) -> float:
    return item_overlap(new, old, field="external_id")


def relaunch_similarity(new: Project, old: Project) -> dict:
    """How alike two projects are, and whether that makes `new` a near-identical relaunch of `old`."""
    same_type = new.task_type == old.task_type
    text = instructions_similarity(new.instructions, old.instructions)
    alike = same_type and text >= INSTRUCTIONS_SIMILARITY
    same_space = same_type and answer_space(new) == answer_space(old)
    content = item_overlap(new, old, field="content_hash") if alike and not same_space else None
    ids = id_overlap(new, old) if alike and not same_space and (content or 0) < ID_OVERLAP else None
    same_items = max(content or 0, ids or 0) >= ID_OVERLAP
    return {
        "same_task_type": same_type,
        "instructions": round(text, 3),
        "same_answer_space": same_space,
        "content_overlap": content,
        "id_overlap": ids,
        "near_identical": alike and (same_space or same_items),
    }


def earlier_rate(project: Project) -> tuple[Decimal, str]:
    """The earlier project's hourly pay: at its measured median time when it has one, else at the client's estimate."""
    from ..pay import hourly_rate
    from .payment import measured_seconds

    seconds, sample = measured_seconds(project)
    if seconds is not None:
        return hourly_rate(project.pay_per_task, seconds), f"measured: a median of {seconds} s over {sample} accepted answers"
    return project.effective_hourly_pay, f"estimated by the client at {project.estimated_seconds} s per task"


def is_cut(new: Project, old: Project) -> bool:
    """Less per task for the same work, or less per hour as posted (a renamed estimate does not change the work)."""
    return new.pay_per_task < old.pay_per_task or new.effective_hourly_pay < old.effective_hourly_pay


def cut_pct(new: Project, old: Project) -> Decimal:
    """The larger of the per-task and the posted hourly cut, in percent."""
    per_task = (old.pay_per_task - new.pay_per_task) / old.pay_per_task
    hourly = (old.effective_hourly_pay - new.effective_hourly_pay) / old.effective_hourly_pay
    return (max(per_task, hourly) * 100).quantize(Decimal("0.1"))


def relaunch_cut_of(project: Project) -> Project | None:
    """The best-paid recent project of the same client that `project` copies at a lower pay, if any."""
    since = timezone.now() - timedelta(days=RELAUNCH_WINDOW_DAYS)
    earlier = (
        Project.objects.filter(organization_id=project.organization_id, task_type=project.task_type, published_at__gte=since)
        .exclude(pk=project.pk)
        .order_by("-published_at")[:MAX_CANDIDATES]
    )
    matches = [old for old in earlier if is_cut(project, old) and relaunch_similarity(project, old)["near_identical"]]
    return max(matches, key=lambda old: (old.pay_per_task, old.effective_hourly_pay, old.published_at), default=None)


def relaunch_hold(*, project: Project, earlier: Project) -> Project:
    """Hold `project` (locked by the caller) for a member vote. The client's funds are checked now and moved on release."""
    from governance.models import ProposalKind
    from governance.services import proposal_create

    from .payment import escrow_ensure

    escrow_ensure(project, dry_run=True)
    old_rate, basis = earlier_rate(earlier)  # what the earlier project really paid per hour, when it was measured
    new_rate = project.effective_hourly_pay
    cut = cut_pct(project, earlier)
    similarity = relaunch_similarity(project, earlier)
    expert = list(earlier.required_qualifications.values_list("name", flat=True))
    project.status = S.HELD
    project.relaunch_of = earlier
    project.status_reason = f"Held for a member vote: pays {cut}% less per hour than “{earlier.title}”."[:200]
    project.save(update_fields=["status", "status_reason", "relaunch_of", "dua", "updated_at"])
    currency = project.currency
    proposal_create(
        actor=None,
        kind=ProposalKind.RATE_CUT_RELAUNCH,
        subject=project,
        title=f"{project.organization.name} relaunches “{earlier.title}” at {cut}% less per hour",
        body=(
            f"“{project.title}” looks like a relaunch of “{earlier.title}” (published {earlier.published_at:%Y-%m-%d}): "
            f"the same task type, instructions {similarity['instructions']:.0%} alike, and the same kind of data. "
            f"It pays {currency} {project.pay_per_task} per task of {project.estimated_seconds} s ({currency} {new_rate}/hour); "
            f"the earlier project paid {currency} {earlier.pay_per_task} per task of {earlier.estimated_seconds} s "
            f"({currency} {old_rate}/hour, {basis})."
            + (f" The earlier project was expert work requiring {', '.join(expert)}." if expert else "")
            + "\n\nVote yes to let it publish at the lower rate; no sends it back to the client, "
            "who can publish it at the earlier rate or more without a vote."
        ),
        payload={
            "project_id": project.pk,
            "earlier_project_id": earlier.pk,
            "effective_hourly_pay": str(new_rate),
            "earlier_effective_hourly_pay": str(old_rate),
            "earlier_rate_basis": basis,
            "cut_pct": str(cut),
            "similarity": similarity,
            # Expert work: what each project required, so members see an expert rate being cut (or the requirement dropped).
            "required_qualifications": sorted(project.required_qualifications.values_list("slug", flat=True)),
            "earlier_required_qualifications": sorted(earlier.required_qualifications.values_list("slug", flat=True)),
        },
    )
    notification_send_to_organization(
        organization=project.organization,
        kind="project.held",
        title=f"“{project.title}” is held for a member vote",
        body=f"It pays {cut}% less per hour than your earlier project “{earlier.title}”. "
        f"Members decide within days; to publish without a vote, pay at least {currency} {earlier.pay_per_task} per task "
        f"and {currency} {old_rate}/hour.",
    )
    return project


def relaunch_withdraw(*, project: Project, actor: User | None = None) -> None:
    """The client cancels a held project: the open vote about it is withdrawn."""
    from django.contrib.contenttypes.models import ContentType

    from governance.models import Proposal, ProposalKind, ProposalStatus
    from governance.services import proposal_withdraw

    open_votes = Proposal.objects.filter(
        kind=ProposalKind.RATE_CUT_RELAUNCH,
        subject_type=ContentType.objects.get_for_model(Project),
        subject_id=str(project.pk),
        status__in=(ProposalStatus.SCHEDULED, ProposalStatus.OPEN),
    )
    for proposal in open_votes:
        proposal_withdraw(actor=actor, proposal=proposal, reason="The client cancelled the project.")
