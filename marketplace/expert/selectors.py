"""Reads of expert work: what a member holds and can take, their accuracy, bonuses, rate cards."""

from __future__ import annotations

from django.db.models import Q
from django.utils import timezone

from coop.models import User

from ..models import Project, WorkerProjectStats
from .eligibility import gold_standing, held_qualification_ids
from .models import Bonus, GoldAccuracyHold, Qualification, QualificationAttempt, QualificationGrant, RateCardRate


def qualification_list() -> list[Qualification]:
    return list(Qualification.objects.filter(is_active=True).select_related("sponsor").order_by("name"))


def qualifications_of(*, member: User) -> list[dict]:
    """Every active qualification with the member's standing: held (until when), last attempt, when they may retry."""
    from .qualifications import _retry_after

    held = {
        g.qualification_id: g
        for g in QualificationGrant.objects.filter(member=member)
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=timezone.now()))
        .order_by("granted_at")
    }
    last = {}
    for attempt in QualificationAttempt.objects.filter(member=member).order_by("started_at", "id"):
        last[attempt.qualification_id] = attempt
    now = timezone.now()
    rows = []
    for q in qualification_list():
        retry_at = _retry_after(q, member) if q.pk in last and q.pk not in held else None
        rows.append({
            "qualification": q, "grant": held.get(q.pk), "last_attempt": last.get(q.pk),
            "retry_at": retry_at if retry_at and retry_at > now else None, "rate": current_rate_for(q),
        })
    return rows


def current_rate_for(qualification: Qualification) -> RateCardRate | None:
    own = RateCardRate.objects.filter(qualification=qualification).order_by("-effective_from", "-id").first()
    tier = (
        RateCardRate.objects.filter(tier=qualification.tier, qualification__isnull=True).order_by("-effective_from", "-id").first()
        if qualification.tier else None
    )
    return max((r for r in (own, tier) if r is not None), key=lambda r: r.hourly_minimum, default=None)


def rate_card() -> list[dict]:
    """The rate card in force: the latest rate per qualification and per tier."""
    seen, rows = set(), []
    for rate in RateCardRate.objects.select_related("qualification").order_by("-effective_from", "-id"):
        key = (rate.qualification_id, rate.tier, rate.currency)
        if key not in seen:
            seen.add(key)
            rows.append(rate)
    return sorted(rows, key=lambda r: r.card_name)


def accuracy_of(*, member: User) -> list[dict]:
    """The member's own gold accuracy per project, with the project's minimum and any hold: nothing hidden."""
    rows = []
    stats = WorkerProjectStats.objects.filter(worker=member).filter(Q(gold_answered__gt=0) | Q(project__min_gold_accuracy__isnull=False))
    for s in stats.select_related("project__organization").order_by("project__title"):
        standing = gold_standing(s.project, member)
        rows.append({"project": s.project, "stats": s, "standing": standing, "hold": standing.hold})
    return rows


def bonuses_of(*, member: User):
    return Bonus.objects.filter(worker=member).select_related("batch__project", "batch__organization").order_by("-batch__created_at", "-id")


BONUS_FIELDS = ["bonus_id", "date", "project_id", "project", "client", "currency", "amount", "reason"]


def bonus_records(*, member: User, date_from=None, date_to=None):
    """A member's bonuses as export rows (their records download), newest first, within the dates if given."""
    bonuses = bonuses_of(member=member)
    if date_from is not None:
        bonuses = bonuses.filter(batch__created_at__date__gte=date_from)
    if date_to is not None:
        bonuses = bonuses.filter(batch__created_at__date__lte=date_to)
    for bonus in bonuses.iterator(chunk_size=2000):
        batch = bonus.batch
        yield {
            "bonus_id": bonus.pk, "date": batch.created_at.date().isoformat(), "project_id": batch.project_id,
            "project": batch.project.title, "client": batch.organization.name, "currency": batch.project.currency,
            "amount": str(bonus.amount), "reason": batch.reason,
        }


def holds_of(*, member: User):
    return GoldAccuracyHold.objects.filter(worker=member).select_related("project").order_by("-created_at")


def blocked_projects(*, member: User) -> list[Project]:
    return [h.project for h in holds_of(member=member) if h.status == GoldAccuracyHold.Status.IN_FORCE]


def holds_member(member: User, qualification: Qualification) -> bool:
    return qualification.pk in held_qualification_ids(member, qualification_ids=[qualification.pk])
