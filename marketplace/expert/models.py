"""Data of expert work. Invariants that a guarantee rests on are database constraints:

* a qualification is held only through a passed test attempt or a decided proposal (a grant row names
  exactly one of them, and each attempt or proposal grants at most once): no steward grants silently;
* one open test attempt per member and qualification (a partial unique index), so parallel starts
  cannot hand out a test twice or dodge the retry delay;
* a rate-card rate always comes from a members' vote (the proposal is required and unique);
* one accuracy hold in force per member and project; one bonus per batch and worker, one batch per
  client key and organization.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from coop.models import ClientOrganization, TimeStampedModel

from ..ledger.models import PayoutDestination  # noqa: F401  (payouts own it: marketplace/ledger/payout_destinations.py)
from ..models import Project, TaskType


class Qualification(TimeStampedModel):
    """A skill a member proves by a test of gold items (or is granted by the members' vote or a peer panel)."""

    slug = models.SlugField(max_length=80, unique=True)
    name = models.CharField(max_length=120)
    description = models.TextField(blank=True)
    tier = models.CharField(max_length=40, blank=True, help_text="A rate-card tier, e.g. 'expert' (optional).")
    sponsor = models.ForeignKey(
        ClientOrganization, null=True, blank=True, on_delete=models.PROTECT, related_name="qualifications",
        help_text="The client who asked for it and pays for its tests; empty: the co-op pays.",
    )
    pass_mark = models.DecimalField(max_digits=5, decimal_places=2, help_text="Percent of test items answered correctly.")
    retry_delay_hours = models.PositiveIntegerField(default=24)
    valid_days = models.PositiveIntegerField(null=True, blank=True, help_text="A grant expires after this many days (empty: never).")
    test_pay = models.DecimalField(max_digits=12, decimal_places=4, help_text="Pay for taking the test, pass or fail.")
    test_estimated_seconds = models.PositiveIntegerField()
    currency = models.CharField(max_length=3, default="USD")
    is_active = models.BooleanField(default=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(condition=Q(pass_mark__gt=0) & Q(pass_mark__lte=100), name="qualification_pass_mark_percent"),
            models.CheckConstraint(condition=Q(test_pay__gt=0), name="qualification_test_pay_positive"),
            models.CheckConstraint(condition=Q(test_estimated_seconds__gt=0), name="qualification_test_time_positive"),
        ]

    def __str__(self):
        return self.name


class QualificationTestItem(models.Model):
    """One gold question of a qualification's test, of any task type, with the known answer and feedback."""

    qualification = models.ForeignKey(Qualification, on_delete=models.CASCADE, related_name="items")
    position = models.PositiveIntegerField()
    task_type = models.CharField(max_length=16, choices=TaskType.choices)
    data = models.JSONField(default=dict)
    image = models.FileField(upload_to="qualifications/", blank=True, max_length=300)
    choices = models.JSONField(default=list, blank=True)
    case_sensitive = models.BooleanField(default=False)
    gold = models.JSONField()
    explanation = models.TextField(blank=True, help_text="Shown with the member's score after the attempt.")

    class Meta:
        ordering = ["position", "id"]
        constraints = [models.UniqueConstraint(fields=["qualification", "position"], name="qualification_item_position_unique")]


class QualificationAttempt(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", "In progress"
        SUBMITTED = "submitted", "Submitted"
        EXPIRED = "expired", "Ran out of time"

    qualification = models.ForeignKey(Qualification, on_delete=models.PROTECT, related_name="attempts")
    member = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="qualification_attempts")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.OPEN)
    started_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    submitted_at = models.DateTimeField(null=True, blank=True)
    items_total = models.PositiveIntegerField(default=0)
    items_correct = models.PositiveIntegerField(default=0)
    score = models.DecimalField(max_digits=5, decimal_places=2, null=True, blank=True)
    passed = models.BooleanField(null=True)
    pay = models.DecimalField(max_digits=12, decimal_places=4, help_text="Fixed at the start: at least the floor for the test's time.")
    pay_transaction = models.OneToOneField(
        "marketplace.LedgerTransaction", null=True, blank=True, on_delete=models.PROTECT, related_name="qualification_attempt"
    )

    class Meta:
        ordering = ["-started_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["qualification", "member"], condition=Q(status="open"), name="one_open_attempt_per_member_and_qualification"
            ),
            models.CheckConstraint(condition=Q(items_correct__lte=F("items_total")), name="attempt_correct_within_total"),
            models.CheckConstraint(condition=Q(pay__gt=0), name="attempt_pay_positive"),
        ]


class QualificationAttemptAnswer(models.Model):
    attempt = models.ForeignKey(QualificationAttempt, on_delete=models.CASCADE, related_name="answers")
    item = models.ForeignKey(QualificationTestItem, on_delete=models.PROTECT, related_name="+")
    payload = models.JSONField()
    correct = models.BooleanField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["attempt", "item"], name="one_answer_per_attempt_item")]


class QualificationNomination(TimeStampedModel):
    """A member put forward for a qualification without the test: the members (or a panel of holders) decide."""

    qualification = models.ForeignKey(Qualification, on_delete=models.PROTECT, related_name="nominations")
    candidate = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="qualification_nominations")
    nominated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    evidence = models.TextField()
    decided_by_panel = models.BooleanField(default=False)

    def __str__(self):
        return f"{self.candidate} for {self.qualification}"


class QualificationGrant(models.Model):
    """A member holds a qualification: by a passed test, or by a passed vote (members or a peer panel). Never otherwise."""

    class Source(models.TextChoices):
        TEST = "test", "Passed the test"
        VOTE = "vote", "Granted by the members' vote"
        PANEL = "panel", "Granted by a panel of peers"

    qualification = models.ForeignKey(Qualification, on_delete=models.PROTECT, related_name="grants")
    member = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="qualification_grants")
    source = models.CharField(max_length=8, choices=Source.choices)
    attempt = models.OneToOneField(QualificationAttempt, null=True, blank=True, on_delete=models.PROTECT, related_name="grant")
    proposal = models.OneToOneField("governance.Proposal", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    granted_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-granted_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(source="test") & Q(attempt__isnull=False) & Q(proposal__isnull=True))
                | (Q(source__in=["vote", "panel"]) & Q(attempt__isnull=True) & Q(proposal__isnull=False)),
                name="grant_by_test_or_by_vote_only",
            ),
        ]

    @property
    def in_force(self) -> bool:
        return self.expires_at is None or self.expires_at > timezone.now()


class RateCardRate(models.Model):
    """A minimum hourly pay for work that requires a qualification (or any qualification of a tier), set by a vote.

    Rates are append-only: the one in force is the latest per qualification or tier.
    """

    qualification = models.ForeignKey(Qualification, null=True, blank=True, on_delete=models.PROTECT, related_name="rates")
    tier = models.CharField(max_length=40, blank=True)
    hourly_minimum = models.DecimalField(max_digits=12, decimal_places=2)
    currency = models.CharField(max_length=3, default="USD")
    proposal = models.OneToOneField("governance.Proposal", on_delete=models.PROTECT, related_name="+")
    effective_from = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-effective_from", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(hourly_minimum__gt=0), name="rate_card_rate_positive"),
            models.CheckConstraint(
                condition=(Q(qualification__isnull=False) & Q(tier="")) | (Q(qualification__isnull=True) & ~Q(tier="")),
                name="rate_card_for_qualification_xor_tier",
            ),
        ]

    @property
    def card_name(self) -> str:
        return f"rate card for “{self.qualification.name}”" if self.qualification_id else f"rate card for the {self.tier} tier"


class GoldAccuracyHold(models.Model):
    """A member fell below a project's minimum gold accuracy: no more tasks there, told why, and appealable.

    The rule itself (services in eligibility.py) reads the counts; this row records what the member was told
    and is the subject of their appeal. A lifted hold restarts the count from `baseline_*`.
    """

    class Status(models.TextChoices):
        IN_FORCE = "in_force", "In force"
        LIFTED = "lifted", "Lifted on appeal"

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="accuracy_holds")
    worker = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="accuracy_holds")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.IN_FORCE)
    gold_answered = models.PositiveIntegerField()
    gold_correct = models.PositiveIntegerField()
    accuracy = models.DecimalField(max_digits=4, decimal_places=3)
    minimum = models.DecimalField(max_digits=4, decimal_places=3)
    baseline_answered = models.PositiveIntegerField(default=0, help_text="Counts when lifted: accuracy is counted afresh after them.")
    baseline_correct = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    lifted_at = models.DateTimeField(null=True, blank=True)
    lifted_reason = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "gold accuracy hold"
        constraints = [
            models.UniqueConstraint(fields=["project", "worker"], condition=Q(status="in_force"), name="one_accuracy_hold_in_force")
        ]

    def __str__(self):
        return f"accuracy hold {self.pk} ({self.status})"


class BonusBatch(models.Model):
    """One bonus request of a client (one, several or all workers), idempotent by the client's key."""

    organization = models.ForeignKey(ClientOrganization, on_delete=models.PROTECT, related_name="bonus_batches")
    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="bonus_batches")
    client_key = models.CharField(max_length=100)
    amount = models.DecimalField(max_digits=12, decimal_places=4, help_text="Per worker.")
    reason = models.CharField(max_length=500)
    fingerprint = models.CharField(max_length=64, help_text="What was asked: a replay must ask the same.")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "client_key"], name="one_bonus_batch_per_client_key"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="bonus_amount_positive"),
        ]


class Bonus(models.Model):
    batch = models.ForeignKey(BonusBatch, on_delete=models.PROTECT, related_name="bonuses")
    worker = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="bonuses")
    amount = models.DecimalField(max_digits=12, decimal_places=4)
    transaction = models.OneToOneField("marketplace.LedgerTransaction", on_delete=models.PROTECT, related_name="bonus")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["batch", "worker"], name="one_bonus_per_batch_and_worker")]


ZERO = Decimal(0)


class ProjectQuestion(models.Model):
    """A member's question about a project's instructions; the client answers, every member working on it sees both."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="questions")
    asked_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="project_questions")
    body = models.TextField()
    asked_at = models.DateTimeField(default=timezone.now)
    answer = models.TextField(blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    answered_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["asked_at", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(answer="") | Q(answered_at__isnull=False), name="question_answer_has_time"),
        ]


class InstructionsVersion(models.Model):
    """The instructions a project had before each amendment: members see what changed, and when."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="instruction_versions")
    version = models.PositiveIntegerField()
    instructions = models.TextField()
    note = models.CharField(max_length=500, blank=True, help_text="What changed and why, in the client's words.")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["project", "version"]
        constraints = [models.UniqueConstraint(fields=["project", "version"], name="one_instructions_version_number")]
