"""Governance notifications: per event or in a daily digest (the member's choice), reminders, live tallies.

Reminders go only to electors who have not voted, once per proposal, 24 hours
before it closes. Members who chose the daily digest get no per-event
notification; the digest job sends them one summary a day instead. Live
events go to a channel-layer group per proposal after the transaction commits.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from coop.models import Notification, User
from coop.realtime import group_send_on_commit
from coop.services import notification_send

from ..models import Elector, NotificationPreference, Participation, Proposal, ProposalStatus, Vote
from ..rules import DIGEST_EVERY, REMINDER_BEFORE_CLOSE


def proposal_group(proposal_id: int) -> str:
    """The channel-layer group of a proposal's live page."""
    return f"governance.proposal.{proposal_id}"


def publish_to_proposal(*, proposal_id: int, event: dict) -> None:
    """Send `event` to the proposal's open pages once the current transaction commits."""
    group_send_on_commit(proposal_group(proposal_id), "governance.event", event)


def notify_users(*, users: Iterable[User], kind: str, title: str, body: str = "", url: str = "", force: bool = False) -> int:
    """Notify each user now, except those who chose the daily digest (unless `force`). Returns how many were sent."""
    users = list(users)
    digest = set()
    if not force:
        digest = set(
            NotificationPreference.objects.filter(daily_digest=True, user__in=[u.pk for u in users]).values_list(
                "user_id", flat=True
            )
        )
    sent = 0
    for user in users:
        if user.pk in digest:
            continue
        notification_send(user=user, kind=kind, title=title, body=body, url=url)
        sent += 1
    return sent


def _voted_ids(proposal: Proposal):
    model = Participation if proposal.secret else Vote
    return model.objects.filter(proposal=proposal).values("membership_id")


def non_voters(proposal: Proposal):
    """Users on the proposal's electorate, still in good standing, who have not voted."""
    electors = Elector.objects.filter(proposal=proposal).exclude(membership_id__in=_voted_ids(proposal)).values("membership_id")
    return User.objects.filter(membership__pk__in=electors, membership__status="active").order_by("pk")


def proposals_remind_due(*, now: datetime | None = None) -> int:
    """Remind non-voters of proposals closing within 24 hours, once per proposal. Idempotent (a claimed flag)."""
    now = now or timezone.now()
    sent = 0
    due = Proposal.objects.filter(
        status=ProposalStatus.OPEN, reminded_at__isnull=True, closes_at__gt=now, closes_at__lte=now + REMINDER_BEFORE_CLOSE
    )
    for pk in due.order_by("pk").values_list("pk", flat=True):
        with transaction.atomic():
            if not Proposal.objects.filter(pk=pk, reminded_at__isnull=True).update(reminded_at=now):
                continue  # another run got there first
            proposal = Proposal.objects.get(pk=pk)
            sent += notify_users(
                users=non_voters(proposal),
                kind="governance.reminder",
                title=f"Last day to vote: {proposal.title}",
                body=f"Voting closes {proposal.closes_at:%Y-%m-%d %H:%M} UTC. You have not voted yet.",
                url=reverse("governance:proposal_detail", kwargs={"pk": pk}),
            )
    return sent


@transaction.atomic
def preference_set(*, user: User, daily_digest: bool) -> NotificationPreference:
    preference, _ = NotificationPreference.objects.update_or_create(user=user, defaults={"daily_digest": bool(daily_digest)})
    return preference


# Notifications that other apps keep quietly in a digest reader's inbox instead of pushing (e.g. answers to
# questions about a project, amended instructions); the digest lists the unread ones of its day.
DIGEST_KINDS = ("project.question_answered", "project.instructions_amended")


def _digest_body(*, membership_id: int, since: datetime, now: datetime, user_id: int | None = None) -> list[str]:
    mine = Proposal.objects.filter(electors__membership_id=membership_id)
    lines = []
    if user_id is not None:
        kept = Notification.objects.filter(
            user_id=user_id, kind__in=DIGEST_KINDS, read_at__isnull=True, created_at__gt=since, created_at__lte=now
        ).order_by("created_at")
        lines += [note.title for note in kept[:20]]
    voted = Q(votes__membership_id=membership_id) | Q(participations__membership_id=membership_id)
    # Reminders of open votes go only to those who have not voted yet.
    for proposal in mine.filter(opened_at__gt=since, opened_at__lte=now).exclude(voted).order_by("closes_at"):
        lines.append(f"New vote: {proposal.title} (closes {proposal.closes_at:%Y-%m-%d %H:%M} UTC)")
    drafts = Proposal.objects.filter(status=ProposalStatus.DRAFT, created_at__gt=since, created_at__lte=now)
    for proposal in drafts.exclude(sponsorships__membership_id=membership_id).order_by("created_at")[:10]:
        lines.append(f"Looking for co-sponsors: {proposal.title}")
    closing = mine.filter(status=ProposalStatus.OPEN, closes_at__gt=now, closes_at__lte=now + REMINDER_BEFORE_CLOSE).exclude(
        voted
    )
    for proposal in closing.order_by("closes_at"):
        lines.append(f"Last day to vote: {proposal.title}")
    for proposal in mine.filter(status=ProposalStatus.CLOSED, closed_at__gt=since, closed_at__lte=now).order_by("closed_at"):
        lines.append(f"Closed: {proposal.title} — {proposal.get_outcome_display().lower()}")
    return lines


def governance_digest_send(*, now: datetime | None = None) -> int:
    """Send each digest subscriber one summary if a day has passed since the last. Idempotent (claimed per member)."""
    now = now or timezone.now()
    sent = 0
    due = NotificationPreference.objects.filter(daily_digest=True).filter(
        Q(last_digest_at__isnull=True) | Q(last_digest_at__lte=now - DIGEST_EVERY)
    )
    for preference in due.select_related("user__membership").order_by("pk"):
        with transaction.atomic():
            claimed = NotificationPreference.objects.filter(pk=preference.pk, last_digest_at=preference.last_digest_at).update(
                last_digest_at=now
            )
            membership = getattr(preference.user, "membership", None)
            if not claimed or membership is None:
                continue
            lines = _digest_body(
                membership_id=membership.pk, since=preference.last_digest_at or now - DIGEST_EVERY, now=now, user_id=preference.user_id
            )
            if lines:
                notification_send(
                    user=preference.user,
                    kind="governance.digest",
                    title=f"Your daily digest: {len(lines)} update{'s' if len(lines) != 1 else ''}",
                    body="\n".join(lines),
                    url=reverse("governance:proposal_list"),
                )
                sent += 1
    return sent
