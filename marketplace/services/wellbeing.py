"""Wellbeing: sensitive content is opt-in per member, and capped per day (a co-op setting), checked at claim time."""

from __future__ import annotations

from django.conf import settings
from django.db.models import Sum
from django.utils import timezone

from coop.error_codes import CoopErrorCode
from coop.errors import ApplicationError
from coop.models import User

from ..models import Assignment, Project, WorkerPreference
from .projects import SENSITIVE_CATEGORIES


def opted_in(worker: User) -> set[str]:
    preference = WorkerPreference.objects.filter(worker=worker).first()
    return set(preference.sensitive_opt_in) if preference else set()


def sensitive_seconds_today(worker: User) -> int:
    """Active seconds the worker spent today (UTC day) on projects with sensitive content."""
    start = timezone.now().replace(hour=0, minute=0, second=0, microsecond=0)
    total = (
        Assignment.objects.filter(worker=worker, leased_at__gte=start)
        .exclude(project__sensitive_categories=[])
        .aggregate(s=Sum("active_seconds"))["s"]
    )
    return total or 0


def wellbeing_refusal(project: Project, worker: User, *, memo: dict | None = None) -> str | None:
    """Why the member may not take this project's sensitive content now, or None. `memo` (one dict per feed
    read) keeps the member's opt-ins and today's sensitive time, so many sensitive projects cost two queries."""
    if not project.sensitive_categories:
        return None
    memo = {} if memo is None else memo
    if "opted_in" not in memo:
        memo["opted_in"] = opted_in(worker)
    if set(project.sensitive_categories) - memo["opted_in"]:
        return "sensitive_opt_in_required"
    if "seconds_today" not in memo:
        memo["seconds_today"] = sensitive_seconds_today(worker)
    if memo["seconds_today"] >= settings.SENSITIVE_DAILY_CAP_MINUTES * 60:
        return "sensitive_daily_cap_reached"
    return None


def preference_set(*, worker: User, sensitive_opt_in) -> WorkerPreference:
    if not worker.is_member:
        raise ApplicationError("Only members set work preferences.", code=CoopErrorCode.MEMBER_REQUIRED, status=403)
    categories = list(dict.fromkeys(sensitive_opt_in or []))
    unknown = set(categories) - set(SENSITIVE_CATEGORIES)
    if unknown:
        raise ApplicationError(f"Unknown categories: {', '.join(sorted(unknown))}.", fields={"sensitive_opt_in": ["Unknown category."]})
    preference, _ = WorkerPreference.objects.update_or_create(worker=worker, defaults={"sensitive_opt_in": categories})
    return preference


REFUSAL_MESSAGES = {
    "sensitive_opt_in_required": "This project contains sensitive content you have not opted in to. Change your work preferences first.",
    "sensitive_daily_cap_reached": "You have reached today's limit for sensitive-content work. It resets at midnight UTC.",
}
