from django.db import migrations, models
from django.db.models import Count, F
from django.utils import timezone


def release_hoarded_leases(apps, schema_editor):
    """Before the constraint: a member holding several live leases in one project keeps the oldest;
    the others are released and their tasks get the capacity back (nothing was submitted on them)."""
    Assignment = apps.get_model("marketplace", "Assignment")
    Task = apps.get_model("marketplace", "Task")
    doubled = (
        Assignment.objects.filter(state="leased").values("worker_id", "project_id").annotate(n=Count("id")).filter(n__gt=1)
    )
    now = timezone.now()
    for row in doubled:
        leases = list(
            Assignment.objects.filter(state="leased", worker_id=row["worker_id"], project_id=row["project_id"]).order_by("leased_at", "pk")
        )
        for lease in leases[1:]:
            Assignment.objects.filter(pk=lease.pk).update(state="released", ended_at=now)
            if not lease.is_gold:
                Task.objects.filter(pk=lease.task_id, assigned_count__gt=0).update(assigned_count=F("assigned_count") - 1)
                Task.objects.filter(pk=lease.task_id, state="full").update(state="open")


class Migration(migrations.Migration):
    dependencies = [
        ("marketplace", "0007_ledger_escrow_checkpoint"),
    ]

    operations = [
        migrations.RunPython(release_hoarded_leases, migrations.RunPython.noop),
        # Lease hoarding: the database refuses a second live lease of one member in one project.
        # The partial unique index replaces the plain partial index on the same columns.
        migrations.RemoveIndex(model_name="assignment", name="assignment_live_by_worker"),
        migrations.AddConstraint(
            model_name="assignment",
            constraint=models.UniqueConstraint(
                condition=models.Q(("state", "leased")),
                fields=("worker", "project"),
                name="one_live_lease_per_worker_and_project",
            ),
        ),
    ]
