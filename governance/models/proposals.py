"""Proposals, the frozen electorate, votes and secret ballots.

One member, one vote is enforced by unique constraints: `Vote` (named ballots)
and `Participation` (secret ballots) are unique per (proposal, membership).

Secret ballots are kept in tables that cannot be joined: `Participation`
says who voted (needed to refuse a second vote). While the ballot is open the
choice waits in `SealedBallot`, encrypted (a key derived from the SECRET_KEY,
never stored in the database) and padded to a fixed size, so a row written in
the same transaction as its participation shows nothing. At close the sealed
ballots are decrypted, shuffled and written to `SecretBallot` in one batch
with fresh random keys (no voter, no timestamp), and the sealed rows are
deleted: row order, keys and transaction ids of the counted ballots follow
the shuffle, not the voters. See governance.services.secret_ballots.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import Q
from django.utils import timezone

from coop.models import Membership

from .base import AppendOnly


class ProposalKind(models.TextChoices):
    CONTRACT_RATIFICATION = "contract_ratification", "Contract ratification"
    DUA_RATIFICATION = "dua_ratification", "Data-use agreement ratification"
    PAY_FLOOR_CHANGE = "pay_floor_change", "Pay floor change"
    COOP_FEE_CHANGE = "coop_fee_change", "Co-op fee change"
    MEMBER_ADMISSION = "member_admission", "Member admission"
    SUSPENSION = "suspension", "Suspension of a member"
    APPEAL = "appeal", "Appeal"
    RATE_CUT_RELAUNCH = "rate_cut_relaunch", "Relaunch of a project at a lower rate"
    BYLAW_AMENDMENT = "bylaw_amendment", "Bylaw amendment"
    GENERAL_MOTION = "general_motion", "General motion"
    STEWARD_ELECTION = "steward_election", "Steward election"
    STEWARD_RECALL = "steward_recall", "Recall of a steward"
    SUSPENSION_REVIEW = "suspension_review", "Review of a suspension"
    CONTRACT_TERMINATION = "contract_termination", "Termination of a contract"
    POLICY_CHANGE = "policy_change", "Change of a co-op rule"
    AMENDMENT = "amendment", "Amendment to a motion"
    BENEFIT_CLAIM = "benefit_claim", "Benefit claim from the benefits fund"
    RATE_CARD_CHANGE = "rate_card_change", "Rate card change (minimum hourly pay for a skill)"
    QUALIFICATION_GRANT = "qualification_grant", "Grant of a qualification without its test"
    PROJECT_RESUME = "project_resume", "Resumption of a paused project"


class VotingMethod(models.TextChoices):
    YES_NO = "yes_no", "Yes / no / abstain"
    SCORE = "score", "Number (median of the scores)"
    RANKED = "ranked", "Ranked choice (instant runoff; STV for several seats)"


class Threshold(models.TextChoices):
    MAJORITY = "majority", "Simple majority (more than half of yes + no)"
    TWO_THIRDS = "two_thirds", "Two-thirds (at least 2/3 of yes + no)"
    CONSENT = "consent", "Consent (passes unless someone blocks)"


class Choice(models.TextChoices):
    YES = "yes", "Yes"
    NO = "no", "No"
    ABSTAIN = "abstain", "Abstain"
    BLOCK = "block", "Block"
    SCORE = "score", "Score"
    RANKING = "ranking", "Ranking"


class ProposalStatus(models.TextChoices):
    DRAFT = "draft", "Gathering co-sponsors"
    SCHEDULED = "scheduled", "Scheduled"
    OPEN = "open", "Open for voting"
    CLOSED = "closed", "Closed"
    WITHDRAWN = "withdrawn", "Withdrawn"


class Outcome(models.TextChoices):
    PASSED = "passed", "Passed"
    FAILED = "failed", "Did not pass"


class EffectStatus(models.TextChoices):
    PENDING = "pending", "Pending (not decided yet)"
    APPLIED = "applied", "Applied"
    RECORDED = "recorded", "Recorded (no automatic effect)"
    NOT_REGISTERED = "not_registered", "Passed, but no effect is registered for it"
    FAILED = "failed", "Effect could not be applied"
    ON_FAIL_APPLIED = "on_fail_applied", "Follow-up of the failed vote applied"
    NONE = "none", "Nothing to apply"


OPEN_STATUSES = ("scheduled", "open")


class Proposal(models.Model):
    """A question put to the members, its voting rules, and (once closed) its result and effect."""

    class DecidedBy(models.TextChoices):
        MEMBERS = "members", "All members in good standing"
        PANEL = "panel", "A panel of randomly drawn members"

    kind = models.CharField(max_length=32, choices=ProposalKind.choices, db_index=True)
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    payload = models.JSONField(default=dict, blank=True, encoder=DjangoJSONEncoder)
    effect_key = models.CharField(max_length=48, help_text="Which registered effect applies when it passes.")

    method = models.CharField(max_length=16, choices=VotingMethod.choices)
    threshold = models.CharField(max_length=16, choices=Threshold.choices, blank=True)
    quorum_pct = models.DecimalField(max_digits=5, decimal_places=2)
    secret = models.BooleanField(default=False)
    results_hidden = models.BooleanField(default=True, help_text="Hide the tally until the ballot closes.")
    score_min = models.DecimalField(max_digits=12, decimal_places=4, null=True, blank=True)
    score_max = models.DecimalField(max_digits=12, decimal_places=4, null=True, blank=True)
    score_places = models.PositiveSmallIntegerField(default=2, help_text="Decimal places of a score and of the median.")
    choices = models.JSONField(
        default=list, blank=True, help_text='Ranked ballots: [{"key": ..., "label": ...}] in ballot order.'
    )
    seats = models.PositiveSmallIntegerField(default=1)
    decided_by = models.CharField(max_length=8, choices=DecidedBy.choices, default=DecidedBy.MEMBERS)

    # What the proposal is about: explicit links for governance subjects,
    # a generic one for other apps' objects (a rejected answer, a held project).
    contract = models.ForeignKey("governance.Contract", null=True, blank=True, on_delete=models.PROTECT, related_name="proposals")
    dua = models.ForeignKey(
        "governance.DataUseAgreement", null=True, blank=True, on_delete=models.PROTECT, related_name="proposals"
    )
    membership = models.ForeignKey(
        Membership, null=True, blank=True, on_delete=models.PROTECT, related_name="governance_proposals"
    )
    subject_type = models.ForeignKey(ContentType, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    subject_id = models.CharField(max_length=64, blank=True)

    status = models.CharField(max_length=16, choices=ProposalStatus.choices, default=ProposalStatus.SCHEDULED, db_index=True)
    opens_at = models.DateTimeField()
    closes_at = models.DateTimeField(db_index=True)
    opened_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    electorate_size = models.PositiveIntegerField(default=0)
    reminded_at = models.DateTimeField(null=True, blank=True)

    outcome = models.CharField(max_length=8, choices=Outcome.choices, blank=True)
    quorum_reached = models.BooleanField(null=True, blank=True)
    result = models.JSONField(default=dict, blank=True, encoder=DjangoJSONEncoder)
    effect_status = models.CharField(max_length=16, choices=EffectStatus.choices, default=EffectStatus.PENDING)
    effect_detail = models.TextField(blank=True)
    withdrawn_reason = models.TextField(blank=True)

    # Member initiative: a member's draft goes to ballot once `sponsors_required` members co-sponsor it,
    # after the discussion period. Zero for proposals a steward or the system opened directly.
    sponsors_required = models.PositiveSmallIntegerField(default=0)
    sponsored_at = models.DateTimeField(null=True, blank=True)
    discussion_period = models.DurationField(default=timedelta(0))
    voting_period = models.DurationField(null=True, blank=True, help_text="How long voting lasts once it opens.")
    amends = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="amendment_ballots")
    # Conflicts of interest: memberships kept off the electorate of their own case (they may still comment).
    conflicted = models.JSONField(default=list, blank=True)
    outcome_statement = models.TextField(blank=True)
    outcome_statement_at = models.DateTimeField(null=True, blank=True)

    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now, editable=False, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(closes_at__gt=models.F("opens_at")), name="proposal_closes_after_opening"),
            models.CheckConstraint(
                condition=Q(quorum_pct__gte=0) & Q(quorum_pct__lte=100), name="proposal_quorum_is_a_percentage"
            ),
            models.CheckConstraint(
                condition=(Q(method="yes_no") & ~Q(threshold="")) | (~Q(method="yes_no") & Q(threshold="")),
                name="proposal_threshold_only_for_yes_no",
            ),
            models.CheckConstraint(
                condition=~Q(method="score")
                | Q(score_min__isnull=False, score_max__isnull=False, score_min__lt=models.F("score_max")),
                name="proposal_score_range",
            ),
            models.CheckConstraint(condition=Q(seats__gte=1), name="proposal_at_least_one_seat"),
            # A secret ballot never shows a running tally (it would reveal who just voted what).
            models.CheckConstraint(condition=Q(secret=False) | Q(results_hidden=True), name="proposal_secret_hides_results"),
            models.CheckConstraint(condition=Q(status="closed") | Q(outcome=""), name="proposal_outcome_only_when_closed"),
            # One open question per subject at a time (two appeals of the same suspension, two votes on one contract).
            models.UniqueConstraint(
                fields=["kind", "membership"],
                condition=Q(status__in=OPEN_STATUSES, membership__isnull=False),
                name="proposal_one_open_per_member_and_kind",
            ),
            models.UniqueConstraint(
                fields=["kind", "subject_type", "subject_id"],
                condition=Q(status__in=OPEN_STATUSES, subject_type__isnull=False),
                name="proposal_one_open_per_subject_and_kind",
            ),
            models.UniqueConstraint(
                fields=["contract"],
                condition=Q(status__in=OPEN_STATUSES, contract__isnull=False),
                name="proposal_one_open_per_contract",
            ),
            models.UniqueConstraint(
                fields=["dua"], condition=Q(status__in=OPEN_STATUSES, dua__isnull=False), name="proposal_one_open_per_dua"
            ),
        ]

    def __str__(self):
        return f"#{self.pk} {self.title}"

    @property
    def subject(self):
        """The object another app asked the members about (e.g. a rejected answer), or None."""
        if self.subject_type_id is None:
            return None
        return self.subject_type.get_object_for_this_type(pk=self.subject_id)

    @property
    def is_open(self) -> bool:
        return self.status == ProposalStatus.OPEN

    @property
    def results_visible(self) -> bool:
        return self.status == ProposalStatus.CLOSED or (self.status == ProposalStatus.OPEN and not self.results_hidden)


class Elector(AppendOnly, models.Model):
    """The electorate, frozen when the ballot opens: members in good standing at that moment (or the drawn panel)."""

    proposal = models.ForeignKey(Proposal, on_delete=models.PROTECT, related_name="electors")
    membership = models.ForeignKey(Membership, on_delete=models.PROTECT, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["proposal", "membership"], name="elector_once_per_proposal")]

    def __str__(self):
        return f"{self.membership} on #{self.proposal_id}"


class Vote(models.Model):
    """A named vote; changing it keeps the old one in VoteHistory. Unique per member and proposal."""

    proposal = models.ForeignKey(Proposal, on_delete=models.PROTECT, related_name="votes")
    membership = models.ForeignKey(Membership, on_delete=models.PROTECT, related_name="governance_votes")
    choice = models.CharField(max_length=8, choices=Choice.choices)
    score = models.DecimalField(max_digits=12, decimal_places=4, null=True, blank=True)
    ranking = models.JSONField(default=list, blank=True)
    reason = models.TextField(blank=True)
    revision = models.PositiveIntegerField(default=1)
    cast_at = models.DateTimeField(default=timezone.now)
    changed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["proposal_id", "cast_at", "id"]  # column order: no join, so row locks stay on votes
        constraints = [
            models.UniqueConstraint(fields=["proposal", "membership"], name="vote_one_member_one_vote"),
            models.CheckConstraint(condition=~Q(choice="block") | ~Q(reason=""), name="vote_block_has_reason"),
        ]

    def __str__(self):
        return f"{self.membership.display_name} on #{self.proposal_id}: {self.choice}"


class VoteHistory(AppendOnly, models.Model):
    """Append-only: every version of a named vote, the first included."""

    vote = models.ForeignKey(Vote, on_delete=models.PROTECT, related_name="history")
    revision = models.PositiveIntegerField()
    choice = models.CharField(max_length=8, choices=Choice.choices)
    score = models.DecimalField(max_digits=12, decimal_places=4, null=True, blank=True)
    ranking = models.JSONField(default=list, blank=True)
    reason = models.TextField(blank=True)
    cast_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name_plural = "vote history"
        ordering = ["vote_id", "revision"]
        constraints = [models.UniqueConstraint(fields=["vote", "revision"], name="vote_history_revision_once")]

    def __str__(self):
        return f"vote {self.vote_id} r{self.revision}: {self.choice}"


class Participation(AppendOnly, models.Model):
    """Who voted in a secret ballot (not what). Unique per member and proposal; no timestamp."""

    proposal = models.ForeignKey(Proposal, on_delete=models.PROTECT, related_name="participations")
    membership = models.ForeignKey(Membership, on_delete=models.PROTECT, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["proposal", "membership"], name="participation_one_member_one_vote")]

    def __str__(self):
        return f"{self.membership} voted on #{self.proposal_id}"


class SealedBallot(models.Model):
    """A secret ballot cast while the vote is open: encrypted and padded, a random key, no voter, no timestamp.

    Deleted at close, when its content moves to SecretBallot in a shuffled batch.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    proposal = models.ForeignKey(Proposal, on_delete=models.PROTECT, related_name="sealed_ballots")
    sealed = models.BinaryField(editable=False)

    class Meta:
        ordering = ["id"]  # a random order, on purpose

    def __str__(self):
        return f"sealed ballot on #{self.proposal_id}"


class SecretBallot(AppendOnly, models.Model):
    """What was voted in a secret ballot: no voter, no timestamp, a random key. Cannot be changed.

    Written only when the ballot closes, all at once and in random order (see SealedBallot).
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    proposal = models.ForeignKey(Proposal, on_delete=models.PROTECT, related_name="secret_ballots")
    choice = models.CharField(max_length=8, choices=Choice.choices)
    score = models.DecimalField(max_digits=12, decimal_places=4, null=True, blank=True)
    ranking = models.JSONField(default=list, blank=True)
    reason = models.TextField(blank=True)

    class Meta:
        ordering = ["id"]  # a random order, on purpose

    def __str__(self):
        return f"secret ballot on #{self.proposal_id}"
