"""Forms of the client console: input shape only; the project services hold the rules."""

from __future__ import annotations

from decimal import Decimal

from django import forms

from .models import Project, TaskType
from .services.projects import SENSITIVE_CATEGORIES

EXPERT_FIELDS = ("required_qualifications", "required_languages", "min_gold_accuracy", "min_gold_answers")
CATEGORY_LABELS = {
    "violence": "Violence",
    "sexual_content": "Sexual content",
    "hate_speech": "Hate speech",
    "self_harm": "Self-harm",
    "medical": "Medical",
    "personal_data": "Personal data",
    "disturbing_imagery": "Disturbing imagery",
}


class ProjectForm(forms.Form):
    title = forms.CharField(max_length=200)
    task_type = forms.ChoiceField(choices=TaskType.choices, help_text="Cannot change after the project is created.")
    instructions = forms.CharField(widget=forms.Textarea(attrs={"rows": 6}), max_length=50_000, help_text="Markdown. Workers read this first.")
    choices = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Classification and multi-label: one label per line (2 to 50).",
    )
    task_config = forms.JSONField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 4, "spellcheck": "false"}),
        help_text='Ranking: {"allow_ties": true}. Rubric: {"dimensions": [{"key": "accuracy", "label": "Accuracy", '
        '"scale": ["1", "2", "3", "4", "5"], "rationale": "required"}], "tolerance": 1}. Multi-label: {"min_choices": 1}.',
    )
    case_sensitive = forms.BooleanField(required=False, help_text="OCR: letter case matters when answers are compared.")
    pay_per_task = forms.DecimalField(min_value=Decimal("0.0001"), max_digits=12, decimal_places=4, help_text="In USD, at most 4 decimals.")
    estimated_seconds = forms.IntegerField(min_value=1, max_value=86_400, help_text="How long one task takes a careful worker.")
    overlap = forms.IntegerField(min_value=1, max_value=20, initial=3, help_text="Answers collected per task.")
    max_overlap = forms.IntegerField(min_value=1, max_value=30, initial=5, help_text="Up to this many when answers disagree.")
    agreement_target = forms.DecimalField(min_value=0, max_value=1, max_digits=4, decimal_places=3, initial=Decimal("0.66"))
    gold_ratio = forms.DecimalField(
        min_value=0, max_value=Decimal("0.5"), max_digits=4, decimal_places=3, initial=Decimal("0.100"),
        help_text="Share of control tasks with a known answer mixed into the work.",
    )
    review_period_hours = forms.IntegerField(min_value=1, max_value=24 * 21, initial=72, help_text="Answers not reviewed in time are accepted.")
    sensitive_categories = forms.MultipleChoiceField(
        required=False,
        choices=[(c, CATEGORY_LABELS.get(c, c)) for c in SENSITIVE_CATEGORIES],
        widget=forms.CheckboxSelectMultiple,
        help_text="Workers are warned and must opt in.",
    )
    webhook_url = forms.URLField(required=False, assume_scheme="https", help_text="We POST signed events (task.accepted, project.completed) here.")
    # Expert work (marketplace/expert/): the service checks that each qualification exists and the codes are languages.
    required_qualifications = forms.MultipleChoiceField(
        required=False, widget=forms.CheckboxSelectMultiple, choices=[],
        help_text="Only members who passed the qualification's test (or were granted it by vote) take the tasks.",
    )
    required_languages = forms.CharField(required=False, max_length=200, help_text="Language codes members must list, e.g. de, pt-br.")
    min_gold_accuracy = forms.DecimalField(
        required=False, min_value=0, max_value=1, max_digits=4, decimal_places=3,
        help_text="Below this share of correct gold answers a member gets no more tasks (told why; they can appeal). Empty: none.",
    )
    min_gold_answers = forms.IntegerField(required=False, min_value=1, max_value=1000, initial=10, help_text="Gold answers before the minimum applies.")

    def __init__(self, *args, project: Project | None = None, **kwargs):
        if project is not None and not kwargs.get("data"):
            kwargs["initial"] = {
                **{name: getattr(project, name) for name in self.base_fields if name not in ("choices", *EXPERT_FIELDS)},
                "choices": "\n".join(project.choices or []),
                "required_qualifications": list(project.required_qualifications.values_list("slug", flat=True)),
                "required_languages": ", ".join(project.required_languages or []),
                "min_gold_accuracy": project.min_gold_accuracy,
                "min_gold_answers": project.min_gold_answers,
            }
        super().__init__(*args, **kwargs)
        from .expert.models import Qualification

        self.fields["required_qualifications"].choices = [(q.slug, q.name) for q in Qualification.objects.filter(is_active=True).order_by("name")]
        self.project = project
        if project is not None:
            self.fields["task_type"].required = False
            self.fields["task_type"].disabled = True
            self.fields["task_type"].initial = project.task_type

    def service_fields(self) -> dict:
        """The cleaned values as the project services take them."""
        data = dict(self.cleaned_data)
        task_type = self.project.task_type if self.project is not None else data["task_type"]
        data.pop("task_type", None)
        data["required_languages"] = [code.strip() for code in (data.get("required_languages") or "").replace(";", ",").split(",") if code.strip()]
        if data.get("min_gold_answers") is None:
            data.pop("min_gold_answers", None)
        choices = [line.strip() for line in (data.pop("choices") or "").splitlines() if line.strip()]
        if data.get("task_config") is None:
            data.pop("task_config", None)
        if task_type in (TaskType.CLASSIFICATION, TaskType.MULTILABEL):
            data["choices"] = choices
        elif choices:
            data["choices"] = choices  # the service refuses choices for other types, with the reason
        return data


class UploadForm(forms.Form):
    file = forms.FileField(required=False, help_text="JSON ({\"tasks\": [...]}), JSON Lines or CSV.")


class GoldTaskForm(forms.Form):
    external_id = forms.CharField(max_length=200)
    text = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}), help_text="Classification: the text to classify.")
    prompt = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}), help_text="Pairwise: the prompt.")
    response_a = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    response_b = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    image = forms.ImageField(required=False, help_text="OCR (or classification): a PNG or JPEG.")
    gold = forms.CharField(max_length=1000, help_text="The known answer: the text, the label, or a / b / tie.")


class DeletionAttestationForm(forms.Form):
    statement = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}), max_length=10_000, help_text="What was deleted, where and how (at least 20 characters)."
    )
