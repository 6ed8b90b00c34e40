from django.db import migrations, models


class Migration(migrations.Migration):
    """The hot path: up to 5 live leases per member and project, one per slot (prefetch); one without it."""

    dependencies = [("marketplace", "0014_rlhf_task_types")]

    operations = [
        migrations.AddField(
            model_name="assignment",
            name="slot",
            field=models.PositiveSmallIntegerField(
                default=0,
                help_text="Which of the member's live leases in the project this is (0 without prefetch; < MAX_PREFETCH).",
            ),
        ),
        migrations.RemoveConstraint(model_name="assignment", name="one_live_lease_per_worker_and_project"),
        migrations.AddConstraint(
            model_name="assignment",
            constraint=models.UniqueConstraint(
                condition=models.Q(("state", "leased")),
                fields=("worker", "project", "slot"),
                name="one_live_lease_per_worker_project_slot",
            ),
        ),
        migrations.AddConstraint(
            model_name="assignment",
            constraint=models.CheckConstraint(condition=models.Q(("slot__lt", 5)), name="assignment_slot_below_max_prefetch"),
        ),
    ]
