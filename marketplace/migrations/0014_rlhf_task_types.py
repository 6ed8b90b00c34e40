# RLHF task designs: ranking, rubric, multi-label and rewrite projects, each configured by task_config.

from django.db import migrations, models

TASK_TYPES = [
    ("ocr", "OCR transcription"),
    ("classification", "Classification"),
    ("pairwise", "Pairwise preference"),
    ("ranking", "Ranking of responses"),
    ("rubric", "Rubric rating"),
    ("multilabel", "Multi-label classification"),
    ("rewrite", "Rewrite (a better response)"),
]


class Migration(migrations.Migration):
    dependencies = [("marketplace", "0013_project_time_measured")]

    operations = [
        migrations.AddField(
            model_name="project",
            name="task_config",
            field=models.JSONField(
                blank=True,
                default=dict,
                help_text="Per task type (task_types.py): ranking {allow_ties}; rubric {dimensions, tolerance}; multilabel {min_choices, max_choices}.",
            ),
        ),
        migrations.AlterField(
            model_name="project",
            name="choices",
            field=models.JSONField(blank=True, default=list, help_text="Classification and multi-label labels."),
        ),
        migrations.AlterField(
            model_name="project", name="task_type", field=models.CharField(choices=TASK_TYPES, max_length=16)
        ),
        migrations.AlterField(
            model_name="qualificationtestitem", name="task_type", field=models.CharField(choices=TASK_TYPES, max_length=16)
        ),
    ]
