from django.contrib import admin

from coop.admin_site import StewardAccessMixin

from .models import (
    AcceptedLabel,
    Answer,
    Assignment,
    ClientRating,
    PayRaise,
    Project,
    ProjectFlag,
    ReviewDecision,
    Task,
    WebhookDelivery,
    WorkerPreference,
    WorkerProjectStats,
)


class ReadOnlyAdmin(StewardAccessMixin, admin.ModelAdmin):
    """Marketplace rows change only through services (claims, submissions, reviews)."""

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Project)
class ProjectAdmin(ReadOnlyAdmin):
    list_display = ["title", "organization", "task_type", "status", "pay_per_task", "estimated_seconds", "effective_hourly_pay", "published_at"]
    list_filter = ["status", "task_type", "organization"]
    search_fields = ["title", "organization__name"]
    list_select_related = ["organization"]
    date_hierarchy = "created_at"


@admin.register(Task)
class TaskAdmin(ReadOnlyAdmin):
    list_display = ["id", "project", "external_id", "state", "is_gold", "assigned_count", "answer_count", "required_answers"]
    list_filter = ["state", "is_gold", "project"]
    search_fields = ["external_id"]
    list_select_related = ["project"]
    show_full_result_count = False


@admin.register(Assignment)
class AssignmentAdmin(ReadOnlyAdmin):
    list_display = ["id", "project", "task", "worker", "state", "is_gold", "leased_at", "expires_at", "active_seconds"]
    list_filter = ["state", "is_gold", "project"]
    search_fields = ["worker__email", "task__external_id"]
    list_select_related = ["project", "task", "worker"]
    show_full_result_count = False


@admin.register(Answer)
class AnswerAdmin(ReadOnlyAdmin):
    list_display = ["id", "task", "worker", "value", "status", "gold_correct", "appeal_status", "submitted_at"]
    list_filter = ["status", "appeal_status", "task__project"]
    search_fields = ["worker__email", "value", "task__external_id"]
    list_select_related = ["task", "worker"]
    show_full_result_count = False


@admin.register(ReviewDecision)
class ReviewDecisionAdmin(ReadOnlyAdmin):
    list_display = ["answer", "reviewer", "accepted", "reason", "created_at"]
    list_filter = ["accepted", "reason"]
    search_fields = ["feedback", "reviewer__email"]
    list_select_related = ["answer", "reviewer"]


@admin.register(AcceptedLabel)
class AcceptedLabelAdmin(ReadOnlyAdmin):
    list_display = ["task", "project", "value", "agreement", "method", "accepted_at"]
    list_filter = ["method", "project"]
    search_fields = ["value", "task__external_id"]
    list_select_related = ["task", "project"]
    show_full_result_count = False


@admin.register(WorkerProjectStats)
class WorkerProjectStatsAdmin(ReadOnlyAdmin):
    list_display = ["worker", "project", "assignments", "gold_assignments", "gold_answered", "gold_correct", "gold_accuracy"]
    list_filter = ["project"]
    search_fields = ["worker__email"]
    list_select_related = ["worker", "project"]


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyAdmin):
    list_display = ["id", "project", "event", "status", "attempts", "response_status", "created_at", "delivered_at"]
    list_filter = ["status", "event"]
    search_fields = ["event_key", "last_error"]
    list_select_related = ["project"]
@admin.register(WorkerPreference)
class WorkerPreferenceAdmin(ReadOnlyAdmin):
    list_display = ["worker", "sensitive_opt_in", "updated_at"]
    search_fields = ["worker__email"]
    list_select_related = ["worker"]


@admin.register(ClientRating)
class ClientRatingAdmin(ReadOnlyAdmin):
    list_display = ["organization", "member", "pay", "review_fairness", "clarity", "communication", "updated_at"]
    list_filter = ["organization"]
    search_fields = ["organization__name", "member__email", "comment"]
    list_select_related = ["organization", "member"]


@admin.register(ProjectFlag)
class ProjectFlagAdmin(ReadOnlyAdmin):
    list_display = ["project", "member", "reason", "created_at"]
    list_filter = ["reason", "project"]
    search_fields = ["project__title", "member__email", "comment"]
    list_select_related = ["project", "member"]


@admin.register(PayRaise)
class PayRaiseAdmin(ReadOnlyAdmin):
    list_display = ["project", "old_pay_per_task", "new_pay_per_task", "measured_seconds", "sample_size", "pay_floor_hourly", "created_at"]
    search_fields = ["project__title"]
    list_select_related = ["project"]


# --- Expert work and the benefits fund: read-only; what is private stays out of the admin ---------------
from .benefits.models import BenefitClaim, BenefitEvidence  # noqa: E402
from .expert import models as expert  # noqa: E402
from .ledger import admin as _ledger_admin  # noqa: E402,F401

for model, columns in (
    (expert.Qualification, ["slug", "name", "tier", "pass_mark", "is_active"]),
    (expert.QualificationTestItem, ["qualification", "position", "task_type"]),
    (expert.QualificationAttempt, ["qualification", "member", "status", "score", "passed", "started_at"]),
    (expert.QualificationAttemptAnswer, ["attempt", "item", "correct"]),
    (expert.QualificationNomination, ["qualification", "candidate", "nominated_by", "created_at"]),
    (expert.QualificationGrant, ["qualification", "member", "source", "granted_at", "expires_at"]),
    (expert.RateCardRate, ["qualification", "tier", "hourly_minimum", "currency", "effective_from"]),
    (expert.GoldAccuracyHold, ["project", "worker", "status", "accuracy", "minimum", "created_at"]),
    (expert.BonusBatch, ["organization", "project", "amount", "created_at"]),
    (expert.Bonus, ["batch", "worker", "amount"]),
    (expert.ProjectQuestion, ["project", "asked_by", "asked_at", "answered_at"]),
    (expert.InstructionsVersion, ["project", "version", "created_at"]),
):
    admin.site.register(model, type(f"{model.__name__}Admin", (ReadOnlyAdmin,), {"list_display": ["id", *columns]}))


@admin.register(expert.PayoutDestination)
class PayoutDestinationAdmin(ReadOnlyAdmin):
    """Only the masked form: the full details are shown on the payout desk, where a payout needs them."""

    list_display = ["id", "member", "method", "masked", "is_current", "created_at"]
    exclude = ["details"]


@admin.register(BenefitClaim)
class BenefitClaimAdmin(ReadOnlyAdmin):
    """The decision and amount; the member's statement is for the deciders only (the claim's own pages)."""

    list_display = ["id", "member", "kind", "amount", "currency", "status", "route", "decided_at", "paid_at"]
    list_filter = ["status", "kind", "route"]
    exclude = ["statement"]


@admin.register(BenefitEvidence)
class BenefitEvidenceAdmin(ReadOnlyAdmin):
    """That evidence exists, never what it says: only the claim's deciders see it."""

    list_display = ["id", "claim", "created_at"]
    fields = ["claim", "created_at"]
    readonly_fields = ["claim", "created_at"]
