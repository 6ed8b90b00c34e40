"""Input and output shapes of the marketplace APIs."""

from decimal import Decimal

from rest_framework import serializers

from coop.serializing import represent
from coop.validation import DecimalStringField, RefuseUnknownFieldsMixin, text_validator

from .models import Answer, Assignment, Project, TaskType
from .rendering import render_instructions


class ProjectInput(RefuseUnknownFieldsMixin, serializers.Serializer):
    title = serializers.CharField(max_length=200, validators=[text_validator])
    instructions = serializers.CharField(max_length=50_000, validators=[text_validator])
    task_type = serializers.ChoiceField(choices=TaskType.choices)
    choices = serializers.ListField(child=serializers.CharField(max_length=100, validators=[text_validator]), required=False, max_length=50)
    task_config = serializers.DictField(
        required=False,
        help_text="ranking: {allow_ties}; rubric: {dimensions: [{key, label, scale: [point labels, lowest first], rationale: "
        "none|optional|required}], tolerance}; multilabel: {min_choices, max_choices}.",
    )
    case_sensitive = serializers.BooleanField(required=False)
    overlap = serializers.IntegerField(min_value=1, max_value=20, required=False)
    max_overlap = serializers.IntegerField(min_value=1, max_value=30, required=False)
    agreement_target = serializers.DecimalField(max_digits=4, decimal_places=3, min_value=0, max_value=1, required=False)
    pay_per_task = DecimalStringField(max_digits=12, decimal_places=4, min_value=0)
    estimated_seconds = serializers.IntegerField(min_value=1, max_value=86_400)
    sensitive_categories = serializers.ListField(child=serializers.CharField(max_length=40), required=False, max_length=10)
    gold_ratio = serializers.DecimalField(max_digits=4, decimal_places=3, min_value=0, max_value=Decimal("0.5"), required=False)
    review_period_hours = serializers.IntegerField(min_value=1, max_value=24 * 21, required=False)
    webhook_url = serializers.URLField(required=False, allow_blank=True)
    # Expert work: only members holding these qualifications (slugs) and listing these languages take the tasks;
    # below min_gold_accuracy after min_gold_answers gold answers a member gets no more (told why, appealable).
    required_qualifications = serializers.ListField(child=serializers.CharField(max_length=80), required=False, max_length=10)
    required_languages = serializers.ListField(child=serializers.CharField(max_length=16), required=False, max_length=10)
    min_gold_accuracy = serializers.DecimalField(max_digits=4, decimal_places=3, min_value=0, max_value=1, required=False, allow_null=True)
    min_gold_answers = serializers.IntegerField(min_value=1, max_value=1000, required=False)

    def validate(self, attrs):
        attrs = super().validate(attrs)
        overlap = attrs.get("overlap", 3)
        if attrs.get("max_overlap", max(overlap, 5)) < overlap:
            raise serializers.ValidationError({"max_overlap": "Must be at least 'overlap'."})
        return attrs


class ProjectOutput(serializers.ModelSerializer):
    effective_hourly_pay = serializers.DecimalField(max_digits=12, decimal_places=2, read_only=True)
    required_qualifications = serializers.SlugRelatedField(slug_field="slug", many=True, read_only=True)
    organization = serializers.CharField(source="organization.slug")

    class Meta:
        model = Project
        fields = [
            "id", "organization", "title", "instructions", "task_type", "choices", "task_config", "case_sensitive", "overlap", "max_overlap",
            "agreement_target", "pay_per_task", "currency", "estimated_seconds", "effective_hourly_pay", "sensitive_categories",
            "gold_ratio", "review_period_hours", "status", "status_reason", "relaunch_of", "webhook_url", "created_at", "published_at",
            "completed_at", "required_qualifications", "required_languages", "min_gold_accuracy", "min_gold_answers", "time_measured",
        ]


class ProjectCreatedOutput(ProjectOutput):
    webhook_secret = serializers.CharField(help_text="Shown once: verify X-Coop-Signature with it.")

    class Meta(ProjectOutput.Meta):
        fields = [*ProjectOutput.Meta.fields, "webhook_secret"]


class ProgressOutput(serializers.Serializer):
    tasks = serializers.IntegerField()
    gold_tasks = serializers.IntegerField()
    open = serializers.IntegerField()
    in_progress = serializers.IntegerField()
    in_review = serializers.IntegerField()
    accepted = serializers.IntegerField()
    live_leases = serializers.IntegerField()
    percent_done = serializers.FloatField()
    answers = serializers.DictField(child=serializers.IntegerField())


class ProjectDetailOutput(ProjectOutput):
    progress = serializers.SerializerMethodField()

    class Meta(ProjectOutput.Meta):
        fields = [*ProjectOutput.Meta.fields, "progress"]

    def get_progress(self, project) -> dict:
        from .selectors import project_progress

        return ProgressOutput(project_progress(project=project)).data


class ImportOutput(serializers.Serializer):
    imported = serializers.IntegerField()
    gold = serializers.IntegerField()
    project = ProjectDetailOutput()


class WorkTaskOutput(serializers.Serializer):
    id = serializers.IntegerField()
    type = serializers.CharField()
    data = serializers.DictField()
    instructions = serializers.CharField()
    instructions_html = serializers.CharField()
    choices = serializers.ListField(child=serializers.CharField())
    config = serializers.DictField(help_text="The project's task_config (rubric dimensions, whether ranking ties are allowed…).")


class AssignmentOutput(serializers.ModelSerializer):
    class Meta:
        model = Assignment
        fields = ["id", "state", "leased_at", "expires_at", "active_seconds"]


class WorkOutput(serializers.Serializer):
    assignment = AssignmentOutput()
    task = WorkTaskOutput()
    project = serializers.DictField()


def work_payload(assignment: Assignment) -> dict:
    task, project = assignment.task, assignment.project
    data = dict(task.data)
    if task.image:
        data["image_url"] = f"/api/v1/work/assignments/{assignment.pk}/image/"
    return {
        "assignment": represent(AssignmentOutput, assignment),
        "task": {
            "id": task.pk,
            "type": project.task_type,
            "data": data,
            "instructions": project.instructions,
            "instructions_html": render_instructions(project.instructions),
            "choices": project.choices,
            "config": project.task_config,
        },
        "project": {
            "id": project.pk,
            "title": project.title,
            "pay_per_task": str(project.pay_per_task),
            "effective_hourly_pay": str(project.effective_hourly_pay),
            "estimated_seconds": project.estimated_seconds,
            "sensitive_categories": project.sensitive_categories,
        },
    }


class SubmitInput(serializers.Serializer):
    answer = serializers.DictField(help_text='OCR {"text"}, classification {"choice"}, pairwise {"preferred": "a"|"b"|"tie", "reason"}')
    active_seconds = serializers.IntegerField(min_value=0, required=False)
    prefilled = serializers.CharField(required=False, allow_blank=True, max_length=1000)


class AnswerOutput(serializers.ModelSerializer):
    assignment = serializers.IntegerField(source="assignment_id")
    task = serializers.IntegerField(source="task_id")

    class Meta:
        model = Answer
        fields = ["id", "assignment", "task", "payload", "status", "submitted_at", "active_seconds", "appeal_status"]


class SubmissionOutput(AnswerOutput):
    project = serializers.CharField(source="task.project.title")
    feedback = serializers.SerializerMethodField()

    class Meta(AnswerOutput.Meta):
        fields = [*AnswerOutput.Meta.fields, "project", "feedback"]

    def get_feedback(self, answer) -> list[dict]:
        return [
            {"accepted": d.accepted, "reason": d.get_reason_display() if d.reason else "", "feedback": d.feedback, "at": d.created_at}
            for d in answer.decisions.all()
        ]
