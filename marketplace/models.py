"""Client projects, tasks, leases (assignments), answers and accepted labels.

Claiming stays fast at 1,000,000 tasks because a task carries its own
capacity counters: `assigned_count` (live leases + submitted answers) and
`required_answers` (the overlap it currently needs, raised by dynamic
overlap). A task is `open` exactly while assigned_count < required_answers,
so "next task" is an index scan over open tasks of one project, with
`FOR UPDATE SKIP LOCKED` on PostgreSQL. See marketplace/services/claiming.py.
"""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from coop.models import ClientOrganization, TimeStampedModel
from coop.vocabulary import TaskType  # noqa: F401  (re-exported: marketplace code imports it from here)


class Project(TimeStampedModel):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        PUBLISHED = "published", "Published"
        PAUSED = "paused", "Paused"
        HELD = "held", "Held for a member vote"
        COMPLETED = "completed", "Completed"
        CANCELLED = "cancelled", "Cancelled"
        CLOSED = "closed", "Closed (books closed, unspent escrow returned)"

    class PauseKind(models.TextChoices):
        """Who paused a project decides who may lift the pause (marketplace/services/lifecycle.py)."""

        CLIENT = "client", "Paused by the client"
        FUNDS = "funds", "Escrow could not pay accepted work"
        FLOOR = "floor", "Pays below the pay floor now in force"
        MEMBERS = "members", "Members flagged it"
        STEWARD = "steward", "A steward paused it"

    organization = models.ForeignKey(ClientOrganization, on_delete=models.PROTECT, related_name="projects")
    title = models.CharField(max_length=200)
    instructions = models.TextField(help_text="Markdown; sanitized when shown.")
    task_type = models.CharField(max_length=16, choices=TaskType.choices)
    choices = models.JSONField(default=list, blank=True, help_text="Classification and multi-label labels.")
    task_config = models.JSONField(
        default=dict,
        blank=True,
        help_text="Per task type (task_types.py): ranking {allow_ties}; rubric {dimensions, tolerance}; multilabel {min_choices, max_choices}.",
    )
    case_sensitive = models.BooleanField(default=False, help_text="OCR: whether letter case matters for agreement.")
    overlap = models.PositiveSmallIntegerField(default=3, validators=[MinValueValidator(1), MaxValueValidator(20)])
    max_overlap = models.PositiveSmallIntegerField(default=5, validators=[MinValueValidator(1), MaxValueValidator(30)])
    agreement_target = models.DecimalField(
        max_digits=4, decimal_places=3, default=Decimal("0.66"), validators=[MinValueValidator(0), MaxValueValidator(1)]
    )
    pay_per_task = models.DecimalField(max_digits=12, decimal_places=4, validators=[MinValueValidator(Decimal("0.0001"))])
    currency = models.CharField(max_length=3, default="USD")
    estimated_seconds = models.PositiveIntegerField(validators=[MinValueValidator(1)])
    time_measured = models.BooleanField(
        default=False, help_text="estimated_seconds is the members' measured median (set by a pay raise), not the client's estimate."
    )
    sensitive_categories = models.JSONField(default=list, blank=True)
    gold_ratio = models.DecimalField(
        max_digits=4, decimal_places=3, default=Decimal("0.100"), validators=[MinValueValidator(0), MaxValueValidator(Decimal("0.5"))]
    )
    review_period_hours = models.PositiveIntegerField(default=72, validators=[MinValueValidator(1), MaxValueValidator(24 * 21)])
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.DRAFT, db_index=True)
    status_reason = models.CharField(max_length=200, blank=True)
    pause_kind = models.CharField(max_length=12, choices=PauseKind.choices, blank=True, help_text="Who paused it (while paused).")
    webhook_url = models.URLField(blank=True)
    webhook_secret = models.CharField(max_length=64, blank=True)
    model_assisted = models.BooleanField(default=False, help_text="Pre-fill the labeling screen with the promoted model's guess.")
    # Expert work (marketplace/expert/): who may take the project, and the accuracy that keeps them on it.
    required_qualifications = models.ManyToManyField("marketplace.Qualification", blank=True, related_name="projects")
    required_languages = models.JSONField(default=list, blank=True, help_text="Language codes a worker must list, e.g. ['de'].")
    min_gold_accuracy = models.DecimalField(
        max_digits=4, decimal_places=3, null=True, blank=True, validators=[MinValueValidator(0), MaxValueValidator(1)],
        help_text="Below this share of correct gold answers (after min_gold_answers of them) a member gets no more tasks.",
    )
    min_gold_answers = models.PositiveSmallIntegerField(default=10, validators=[MinValueValidator(1), MaxValueValidator(1000)])
    dua = models.ForeignKey(
        "governance.DataUseAgreement",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="projects",
        help_text="The data-use agreement the project was published under.",
    )
    relaunch_of = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="relaunches",
        help_text="An earlier, near-identical project of the client that paid more per hour (set when publication was held).",
    )
    published_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(max_overlap__gte=F("overlap")), name="max_overlap_at_least_overlap"),
            models.CheckConstraint(condition=Q(pay_per_task__gt=0), name="pay_per_task_positive"),
            models.CheckConstraint(condition=Q(estimated_seconds__gt=0), name="estimated_seconds_positive"),
        ]

    def __str__(self):
        return self.title

    @property
    def effective_hourly_pay(self) -> Decimal:
        """Pay per task / estimated seconds × 3600, exact to the cent (rounded half-up for display)."""
        from .pay import hourly_rate

        return hourly_rate(self.pay_per_task, self.estimated_seconds)

    @property
    def lease_seconds(self) -> int:
        """A lease long enough for a slow worker: 3× the estimate, at least 2 and at most 120 minutes."""
        return max(120, min(self.estimated_seconds * 3, 7200))


class Task(models.Model):
    class State(models.TextChoices):
        OPEN = "open", "Open"  # needs more answers and has room for another lease
        FULL = "full", "Leased or answered up to its overlap"
        REVIEW = "review", "Waiting for review"
        ACCEPTED = "accepted", "Accepted"

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="tasks")
    external_id = models.CharField(max_length=200)
    data = models.JSONField(default=dict)
    image = models.FileField(upload_to="tasks/", blank=True, max_length=300)
    gold = models.JSONField(null=True, blank=True, help_text="The known answer, for gold (control) tasks.")
    is_gold = models.BooleanField(default=False)
    content_hash = models.CharField(
        max_length=64, blank=True, help_text="SHA-256 of the item's content (data and image bytes): finds relaunched items."
    )
    state = models.CharField(max_length=12, choices=State.choices, default=State.OPEN)
    assigned_count = models.PositiveIntegerField(default=0, help_text="Live leases + submitted answers.")
    answer_count = models.PositiveIntegerField(default=0)
    required_answers = models.PositiveSmallIntegerField(default=1)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["project", "external_id"], name="task_external_id_unique_in_project"),
            models.CheckConstraint(
                condition=Q(is_gold=True) | Q(assigned_count__lte=F("required_answers")), name="task_overlap_never_exceeded"
            ),
            models.CheckConstraint(condition=Q(answer_count__lte=F("assigned_count")) | Q(is_gold=True), name="answers_within_assigned"),
        ]
        indexes = [
            # The claim query: open regular tasks of a project in id order.
            models.Index(fields=["project", "id"], name="task_claimable", condition=Q(state="open", is_gold=False)),
            models.Index(fields=["project", "id"], name="task_gold", condition=Q(is_gold=True)),
            models.Index(fields=["project", "state"], name="task_project_state"),
            models.Index(fields=["project", "content_hash"], name="task_content_hash"),
        ]

    def __str__(self):
        return f"{self.project_id}:{self.external_id}"


class Assignment(models.Model):
    """A lease of one task to one worker. A worker never gets the same task twice, and holds at most
    MAX_PREFETCH live leases in one project, one per `slot` (unique constraints): one without prefetch."""

    MAX_PREFETCH = 5

    class State(models.TextChoices):
        LEASED = "leased", "Leased"
        SUBMITTED = "submitted", "Submitted"
        RELEASED = "released", "Released"
        EXPIRED = "expired", "Expired"

    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="assignments")
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="assignments")
    worker = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="assignments")
    state = models.CharField(max_length=12, choices=State.choices, default=State.LEASED)
    is_gold = models.BooleanField(default=False)
    leased_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    last_heartbeat_at = models.DateTimeField(null=True, blank=True)
    active_seconds = models.PositiveIntegerField(default=0)
    ended_at = models.DateTimeField(null=True, blank=True)
    slot = models.PositiveSmallIntegerField(
        default=0, help_text="Which of the member's live leases in the project this is (0 without prefetch; < MAX_PREFETCH)."
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["task", "worker"], name="one_assignment_per_worker_and_task"),
            # Lease hoarding: a member holds at most one live lease per project and slot, and there are
            # MAX_PREFETCH slots, whatever number of requests or server processes race (a partial unique index).
            models.UniqueConstraint(
                fields=["worker", "project", "slot"], condition=Q(state="leased"), name="one_live_lease_per_worker_project_slot"
            ),
            models.CheckConstraint(condition=Q(slot__lt=5), name="assignment_slot_below_max_prefetch"),
        ]
        indexes = [
            models.Index(fields=["expires_at"], name="assignment_live_expiry", condition=Q(state="leased")),
            models.Index(fields=["worker", "-leased_at"], name="assignment_worker_history"),
        ]

    def __str__(self):
        return f"assignment {self.pk} ({self.state})"


class Answer(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending review"
        ACCEPTED = "accepted", "Accepted"
        REJECTED = "rejected", "Rejected"

    class AppealStatus(models.TextChoices):
        NONE = "", "No appeal"
        PENDING = "pending", "Appeal pending"
        UPHELD = "upheld", "Rejection upheld"
        OVERTURNED = "overturned", "Rejection overturned"

    assignment = models.OneToOneField(Assignment, on_delete=models.PROTECT, related_name="answer")
    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="answers")
    worker = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="answers")
    payload = models.JSONField()
    value = models.CharField(max_length=1000, help_text="The normalized answer that consensus compares.")
    idempotency_key = models.CharField(max_length=100)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING, db_index=True)
    agrees_with_label = models.BooleanField(null=True)
    gold_correct = models.BooleanField(null=True)
    active_seconds = models.PositiveIntegerField(default=0)
    prefilled = models.CharField(max_length=1000, blank=True, help_text="The model's suggestion shown, if any.")
    edited = models.BooleanField(null=True, help_text="Whether the worker changed the model's suggestion.")
    submitted_at = models.DateTimeField(default=timezone.now)
    decided_at = models.DateTimeField(null=True, blank=True)
    appeal_status = models.CharField(max_length=12, choices=AppealStatus.choices, default="", blank=True)
    appeal_reason = models.TextField(blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["worker", "idempotency_key"], name="answer_idempotency_key_unique")]
        indexes = [
            models.Index(fields=["worker", "-submitted_at"], name="answer_worker_history"),
            models.Index(fields=["submitted_at"], name="answer_pending_age", condition=Q(status="pending")),
            models.Index(fields=["submitted_at", "id"], name="answer_export_order"),  # the answers export's order
        ]

    def __str__(self):
        return f"answer {self.pk} ({self.status})"


class PayRaise(models.Model):
    """The pay per task raised after measured working time showed the project paying below the floor."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="pay_raises")
    old_pay_per_task = models.DecimalField(max_digits=12, decimal_places=4)
    new_pay_per_task = models.DecimalField(max_digits=12, decimal_places=4)
    measured_seconds = models.PositiveIntegerField(help_text="Median active seconds per accepted answer.")
    sample_size = models.PositiveIntegerField()
    pay_floor_hourly = models.DecimalField(max_digits=12, decimal_places=2)
    measured_hourly_pay = models.DecimalField(max_digits=12, decimal_places=2, help_text="At the old pay per task.")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(new_pay_per_task__gt=F("old_pay_per_task")), name="pay_raise_raises_pay"),
        ]

    def __str__(self):
        return f"{self.project}: {self.old_pay_per_task} → {self.new_pay_per_task}"


class ReviewDecision(models.Model):
    """Append-only record of a reviewer's decision on one answer."""

    class Reason(models.TextChoices):
        INCORRECT = "incorrect", "The answer is incorrect"
        INSTRUCTIONS = "instructions_not_followed", "The instructions were not followed"
        INCOMPLETE = "incomplete", "The answer is incomplete"
        SPAM = "spam", "Random or copy-pasted answer"
        OTHER = "other", "Other (explained in the feedback)"

    answer = models.ForeignKey(Answer, on_delete=models.PROTECT, related_name="decisions")
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    accepted = models.BooleanField()
    reason = models.CharField(max_length=32, choices=Reason.choices, blank=True)
    feedback = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(accepted=True) | (~Q(reason="") & ~Q(feedback="")), name="rejection_has_reason_and_feedback"
            )
        ]


class AcceptedLabel(models.Model):
    """The label a task ends with, and where it came from (provenance)."""

    class Method(models.TextChoices):
        CONSENSUS = "consensus", "Consensus"
        REVIEW = "review", "Review"
        GOLD = "gold", "Gold (known answer)"

    task = models.OneToOneField(Task, on_delete=models.CASCADE, related_name="label")
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="labels")
    value = models.CharField(max_length=1000)
    label = models.JSONField()
    agreement = models.DecimalField(max_digits=4, decimal_places=3)
    method = models.CharField(max_length=12, choices=Method.choices)
    answers = models.ManyToManyField(Answer, related_name="labels")
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    accepted_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["project", "accepted_at", "id"], name="label_export_order")]

    def __str__(self):
        return f"label of task {self.task_id}: {self.value}"


class WorkerProjectStats(models.Model):
    """Per worker and project: counts that drive gold mixing and show gold accuracy."""

    worker = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="project_stats")
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="worker_stats")
    assignments = models.PositiveIntegerField(default=0)
    gold_assignments = models.PositiveIntegerField(default=0)
    gold_answered = models.PositiveIntegerField(default=0)
    gold_correct = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["worker", "project"], name="one_stats_row_per_worker_project")]

    @property
    def gold_accuracy(self) -> Decimal | None:
        if not self.gold_answered:
            return None
        return (Decimal(self.gold_correct) / Decimal(self.gold_answered)).quantize(Decimal("0.001"))


class WebhookDelivery(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        DELIVERED = "delivered", "Delivered"
        FAILED = "failed", "Failed"

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="webhook_deliveries")
    event = models.CharField(max_length=40)
    event_key = models.CharField(max_length=120, help_text="Business event identity: one delivery per event.")
    payload = models.JSONField()
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    response_status = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["project", "event_key"], name="one_delivery_per_event")]
class ClientRating(models.Model):
    """A member's Turkopticon-style rating of a client they worked for (one per member and client, updatable)."""

    organization = models.ForeignKey(ClientOrganization, on_delete=models.CASCADE, related_name="ratings")
    member = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="client_ratings")
    pay = models.PositiveSmallIntegerField()
    review_fairness = models.PositiveSmallIntegerField()
    clarity = models.PositiveSmallIntegerField()
    communication = models.PositiveSmallIntegerField()
    comment = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    SCORES = ("pay", "review_fairness", "clarity", "communication")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "member"], name="one_rating_per_member_and_client"),
            *[
                models.CheckConstraint(condition=Q(**{f"{field}__gte": 1, f"{field}__lte": 5}), name=f"rating_{field}_1_to_5")
                for field in ("pay", "review_fairness", "clarity", "communication")
            ],
        ]


class ProjectFlag(models.Model):
    """A member's collective flag on a project they worked on; enough of them pause it for review."""

    class Reason(models.TextChoices):
        PAY_TOO_LOW = "pay_too_low", "Pay too low for the real time it takes"
        HARMFUL = "harmful_content", "Harmful or disturbing content"
        UNCLEAR = "unclear", "Instructions are unclear"

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="flags")
    member = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="project_flags")
    reason = models.CharField(max_length=20, choices=Reason.choices)
    comment = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["project", "member"], name="one_flag_per_member_and_project")]


class WorkerPreference(models.Model):
    """A member's wellbeing choices: which sensitive-content categories they opt in to (none by default)."""

    worker = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="work_preference")
    sensitive_opt_in = models.JSONField(default=list, blank=True)
    updated_at = models.DateTimeField(auto_now=True)


from .benefits.models import BenefitClaim, BenefitEvidence  # noqa: E402,F401
from .expert.models import (  # noqa: E402,F401
    Bonus,
    BonusBatch,
    GoldAccuracyHold,
    InstructionsVersion,
    ProjectQuestion,
    Qualification,
    QualificationAttempt,
    QualificationAttemptAnswer,
    QualificationGrant,
    QualificationNomination,
    QualificationTestItem,
    RateCardRate,
)
from .ledger.models import LedgerAccount, LedgerEntry, LedgerTransaction, Payout, PayoutDestination  # noqa: E402,F401
