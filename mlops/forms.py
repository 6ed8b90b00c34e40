"""Portal forms of mlops: input shape only; rules live in services."""

from django import forms

from marketplace.models import Project, TaskType


class RunForm(forms.Form):
    model_name = forms.SlugField(max_length=100, initial="captcha-ocr", help_text="Lower-case letters, digits, '-', '_'.")
    projects = forms.ModelMultipleChoiceField(
        queryset=Project.objects.filter(task_type=TaskType.OCR).order_by("-created_at"), required=False,
        help_text="OCR projects to snapshot (none selected: all of them).",
    )
    charset = forms.CharField(max_length=500, required=False, strip=True, help_text="Allowed characters (empty: any).")
    max_len = forms.IntegerField(min_value=1, max_value=200, initial=16)
    backbone = forms.CharField(max_length=100, required=False, help_text="Any timm model name; empty: the co-op's default.")
    epochs = forms.IntegerField(min_value=1, max_value=10_000, initial=100)
    batch_size = forms.IntegerField(min_value=1, max_value=4096, initial=64)
    lr = forms.FloatField(min_value=1e-6, max_value=1.0, initial=1e-3)
    img_height = forms.IntegerField(min_value=8, max_value=512, required=False, help_text="Empty: from the data.")
    img_width = forms.IntegerField(min_value=8, max_value=2048, required=False)
    auto_promote = forms.BooleanField(required=False, help_text="Promote the model if training succeeds.")

    def training_config(self) -> dict:
        data = self.cleaned_data
        config = {key: data[key] for key in ("epochs", "batch_size", "lr", "img_height", "img_width", "backbone") if data.get(key)}
        return config

    def snapshot_options(self) -> dict:
        options = {"max_len": self.cleaned_data["max_len"]}
        if self.cleaned_data.get("charset"):
            options["charset"] = self.cleaned_data["charset"]
        return options
