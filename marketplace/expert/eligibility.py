"""The rules of expert work that claiming, the feed and publication call directly (no hooks, no registry).

* A project that requires qualifications is open only to members holding each of them in force (passed
  test or a members' grant, not expired); one that requires languages, to members who list each of them.
* A project with `min_gold_accuracy` stops handing tasks to a member whose share of correct gold answers
  falls below it after `min_gold_answers` of them (counted afresh after an appeal lifts a hold). The member
  is told why and can appeal: no hidden block.
* The expert rate: the highest minimum hourly pay the members voted for any qualification (or its tier) a
  project requires. Publication refuses below it, naming the card, the rate and the minimum pay per task;
  a live project below a newly raised rate leaves the feed at once, like one below the pay floor.

Every function reads; none writes. Each costs no query for a project without requirements.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Q
from django.utils import timezone

from coop.errors import ApplicationError
from coop.models import User
from marketplace.error_codes import MarketplaceErrorCode

from ..models import Project, WorkerProjectStats
from ..pay import hourly_rate, minimum_pay_per_task
from .models import GoldAccuracyHold, Qualification, QualificationGrant, RateCardRate

REFUSAL_MESSAGES = {
    "qualification_required": "This project needs a qualification you do not hold yet: take its test (paid) first.",
    "language_required": "This project needs a language that is not in your profile.",
    "gold_accuracy_below_minimum": "Your gold accuracy in this project is below its minimum: you get no more of its tasks. You can appeal.",
    "below_expert_rate": "This project pays below the members' rate card for its skill; it takes no work until the client raises the pay.",
}


def required_qualifications(project: Project) -> list[Qualification]:
    """The project's required qualifications (uses a prefetch when the caller made one; no query when the caller
    annotated `requires_qualifications` and it is False, as the claim API does)."""
    if not project.pk or getattr(project, "requires_qualifications", None) is False:
        return []
    return list(project.required_qualifications.all())


def held_qualification_ids(worker: User, *, qualification_ids=None) -> set[int]:
    """Qualifications the member holds now: a grant by test or vote that has not expired."""
    now = timezone.now()
    grants = QualificationGrant.objects.filter(member=worker).filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))
    if qualification_ids is not None:
        grants = grants.filter(qualification_id__in=list(qualification_ids))
    return set(grants.values_list("qualification_id", flat=True))


def missing_qualifications(project: Project, worker: User) -> list[Qualification]:
    required = required_qualifications(project)
    if not required:
        return []
    held = held_qualification_ids(worker, qualification_ids=[q.pk for q in required])
    return [q for q in required if q.pk not in held]


def member_languages(worker: User) -> set[str]:
    membership = getattr(worker, "membership", None)
    return {str(code).strip().lower() for code in (getattr(membership, "languages", None) or [])}


def missing_languages(project: Project, worker: User) -> list[str]:
    wanted = [str(code).lower() for code in (project.required_languages or [])]
    if not wanted:
        return []
    have = member_languages(worker)
    return [code for code in wanted if code not in have]


@dataclass(frozen=True)
class GoldStanding:
    answered: int  # gold answers counted (since the last lifted hold)
    correct: int
    minimum: Decimal | None
    needed: int  # gold answers before the minimum applies
    hold: GoldAccuracyHold | None  # in force

    @property
    def accuracy(self) -> Decimal | None:
        if not self.answered:
            return None
        return (Decimal(self.correct) / Decimal(self.answered)).quantize(Decimal("0.001"))

    @property
    def below(self) -> bool:
        if self.hold is not None:
            return True
        if self.minimum is None or self.answered < self.needed:
            return False
        return Decimal(self.correct) < self.minimum * Decimal(self.answered)  # exact: no rounding decides a block


def gold_standing(project: Project, worker: User) -> GoldStanding:
    """A member's gold accuracy in a project as the rule counts it."""
    stats = WorkerProjectStats.objects.filter(worker=worker, project=project).first()
    answered, correct = (stats.gold_answered, stats.gold_correct) if stats else (0, 0)
    holds = list(GoldAccuracyHold.objects.filter(project=project, worker=worker).order_by("-created_at", "-id")[:5])
    in_force = next((h for h in holds if h.status == GoldAccuracyHold.Status.IN_FORCE), None)
    lifted = next((h for h in holds if h.status == GoldAccuracyHold.Status.LIFTED), None)
    if lifted is not None:
        answered, correct = answered - lifted.baseline_answered, correct - lifted.baseline_correct
    return GoldStanding(answered, correct, project.min_gold_accuracy, project.min_gold_answers, in_force)


def expert_rate(project: Project) -> tuple[RateCardRate | None, Decimal | None]:
    """The highest rate-card minimum (per hour) that applies to the project, and the pay per task it needs."""
    required = required_qualifications(project)
    if not required:
        return None, None
    tiers = {q.tier for q in required if q.tier}
    rates = RateCardRate.objects.filter(
        Q(qualification__in=[q.pk for q in required]) | Q(tier__in=tiers, qualification__isnull=True), currency=project.currency
    ).select_related("qualification").order_by("-effective_from", "-id")
    current: dict[tuple, RateCardRate] = {}
    for rate in rates:
        current.setdefault((rate.qualification_id, rate.tier), rate)  # the latest per qualification or tier
    if not current:
        return None, None
    top = max(current.values(), key=lambda r: (r.hourly_minimum, -r.pk))
    return top, minimum_pay_per_task(top.hourly_minimum, project.estimated_seconds)


def expert_rate_check(project: Project) -> None:
    """Publication: the pay meets the highest applicable rate card. The refusal names the card, the rate and the minimum."""
    rate, minimum = expert_rate(project)
    if rate is None or project.pay_per_task >= minimum:
        return
    posted = hourly_rate(project.pay_per_task, project.estimated_seconds)
    raise ApplicationError(
        f"The members' {rate.card_name} sets at least {project.currency} {rate.hourly_minimum}/hour; this project pays "
        f"{project.currency} {posted}/hour ({project.pay_per_task} per task of {project.estimated_seconds} s). "
        f"Pay at least {minimum} per task.",
        code=MarketplaceErrorCode.BELOW_EXPERT_RATE,
        extra={
            "rate_card": rate.card_name,
            "rate_card_id": rate.pk,
            "hourly_minimum": str(rate.hourly_minimum),
            "effective_hourly_pay": str(posted),
            "minimum_pay_per_task": str(minimum),
        },
    )


def expert_refusal(project: Project, worker: User) -> str | None:
    """Why this member may not take this project's tasks (a code for X-Coop-Reason), or None."""
    if not project.pk:
        return None
    if required_qualifications(project):
        rate, minimum = expert_rate(project)
        if rate is not None and project.pay_per_task < minimum:
            return "below_expert_rate"
        if missing_qualifications(project, worker):
            return "qualification_required"
    if missing_languages(project, worker):
        return "language_required"
    if project.min_gold_accuracy is not None and gold_standing(project, worker).below:
        return "gold_accuracy_below_minimum"
    return None


def refusal_detail(project: Project, worker: User, refusal: str | None) -> dict:
    """What the feed shows beside a refusal: which qualification (with its test), which language, which figures."""
    if refusal == "qualification_required":
        return {"qualifications": missing_qualifications(project, worker)}
    if refusal == "language_required":
        return {"languages": missing_languages(project, worker)}
    if refusal == "gold_accuracy_below_minimum":
        return {"standing": gold_standing(project, worker)}
    return {}
