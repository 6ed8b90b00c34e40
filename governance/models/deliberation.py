"""Member initiative and deliberation: co-sponsors, discussion threads, amendments, proxies, interim suspensions.

Every rule that must hold under concurrency is a database constraint:
a member co-sponsors a proposal once, holds at most one live proxy per
category, never names themself as proxy; an interim suspension is
confirmed by a second steward, never the one who asked for it.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from coop.models import Membership


class Sponsorship(models.Model):
    """A member backing a member's proposal so it goes to ballot (policy `proposal_cosponsors`)."""

    proposal = models.ForeignKey("governance.Proposal", on_delete=models.PROTECT, related_name="sponsorships")
    membership = models.ForeignKey(Membership, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [models.UniqueConstraint(fields=["proposal", "membership"], name="sponsorship_once_per_member")]

    def __str__(self):
        return f"{self.membership} backs #{self.proposal_id}"


class Comment(models.Model):
    """One message in a proposal's discussion thread (Markdown, sanitised when rendered).

    Replies are one level deep. The author may edit within the edit window;
    a steward may hide a comment with a logged reason; nothing is deleted.
    """

    proposal = models.ForeignKey("governance.Proposal", on_delete=models.PROTECT, related_name="comments")
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="replies")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    body = models.TextField()
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    edited_at = models.DateTimeField(null=True, blank=True)
    hidden_at = models.DateTimeField(null=True, blank=True)
    hidden_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    hidden_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(condition=~Q(body=""), name="comment_has_body"),
            models.CheckConstraint(condition=Q(hidden_at__isnull=True) | ~Q(hidden_reason=""), name="comment_hidden_with_reason"),
        ]

    def __str__(self):
        return f"comment {self.pk} on #{self.proposal_id}"


class Amendment(models.Model):
    """A member's proposed change to a motion's text, decided before the main question.

    The author of the motion may accept it (the text changes, before voting
    opens) or reject it; otherwise open amendments are put to the members as
    their own yes/no question when voting on the motion opens, and close first.
    """

    class Status(models.TextChoices):
        PROPOSED = "proposed", "Proposed"
        ACCEPTED = "accepted", "Accepted by the author"
        DECLINED = "declined", "Declined by the author"
        PUT_TO_VOTE = "put_to_vote", "Put to the members"
        WITHDRAWN = "withdrawn", "Withdrawn"

    proposal = models.ForeignKey("governance.Proposal", on_delete=models.PROTECT, related_name="amendments")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    body = models.TextField(help_text="The motion's text as it would read if the amendment is adopted.")
    rationale = models.TextField(blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PROPOSED)
    ballot = models.OneToOneField(
        "governance.Proposal", null=True, blank=True, on_delete=models.PROTECT, related_name="amendment_voted"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [models.CheckConstraint(condition=~Q(body=""), name="amendment_has_body")]

    def __str__(self):
        return f"amendment {self.pk} to #{self.proposal_id}"


class Delegation(models.Model):
    """A member's proxy: their delegate's named vote counts for them unless they vote themselves.

    `category` is a proposal kind, or "" for every named ballot. One level
    only: a delegate's own delegations never pass votes on. Revoking sets
    `revoked_at`; the state at close is what counts.
    """

    delegator = models.ForeignKey(Membership, on_delete=models.PROTECT, related_name="delegations_given")
    delegate = models.ForeignKey(Membership, on_delete=models.PROTECT, related_name="delegations_received")
    category = models.CharField(max_length=32, blank=True, help_text="A proposal kind, or empty for all named ballots.")
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=~Q(delegator=models.F("delegate")), name="delegation_not_to_self"),
            models.UniqueConstraint(
                fields=["delegator", "category"], condition=Q(revoked_at__isnull=True), name="delegation_one_live_per_category"
            ),
        ]

    def __str__(self):
        return f"{self.delegator} → {self.delegate} ({self.category or 'all'})"


class InterimSuspension(models.Model):
    """An emergency suspension: asked by one steward, confirmed by a second, reviewed by the members.

    It lasts at most `interim_suspension_days` (policy); confirming it opens
    a suspension proposal; if the members do not suspend by the end, the
    member is reinstated automatically.
    """

    class Ground(models.TextChoices):
        FRAUD = "fraud", "Fraud (e.g. answers copied or generated, payment fraud)"
        HARASSMENT = "harassment", "Harassment of members, stewards or clients"
        SAFETY = "safety", "A risk to someone's safety"

    class Status(models.TextChoices):
        REQUESTED = "requested", "Asked by one steward, waiting for a second"
        IN_FORCE = "in_force", "In force, under review by the members"
        ENDED = "ended", "Ended"
        CANCELLED = "cancelled", "Cancelled before it took effect"

    membership = models.ForeignKey(Membership, on_delete=models.PROTECT, related_name="interim_suspensions")
    ground = models.CharField(max_length=16, choices=Ground.choices)
    evidence = models.TextField()
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    confirmed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.REQUESTED)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    starts_at = models.DateTimeField(null=True, blank=True)
    ends_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    end_reason = models.TextField(blank=True)
    review = models.OneToOneField(
        "governance.Proposal", null=True, blank=True, on_delete=models.PROTECT, related_name="interim_suspension"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(confirmed_by__isnull=True) | ~Q(confirmed_by=models.F("requested_by")),
                name="interim_suspension_two_stewards",
            ),
            models.CheckConstraint(
                condition=~Q(status="in_force") | Q(confirmed_by__isnull=False, ends_at__isnull=False),
                name="interim_suspension_in_force_confirmed",
            ),
            models.UniqueConstraint(
                fields=["membership"],
                condition=Q(status__in=["requested", "in_force"]),
                name="interim_suspension_one_live_per_member",
            ),
        ]

    def __str__(self):
        return f"interim suspension of {self.membership} ({self.status})"
