# Export logs count the rows actually sent: an open entry (finished_at empty) while the export streams.

from django.db import migrations, models
from django.db.models import F


def finish_existing(apps, schema_editor):
    # Exports logged before this were recorded whole, at once.
    apps.get_model("governance", "DataExportLog").objects.filter(finished_at__isnull=True).update(finished_at=F("created_at"))


class Migration(migrations.Migration):
    dependencies = [("governance", "0005_appeal_window_policy")]

    operations = [
        migrations.AddField(
            model_name="dataexportlog",
            name="finished_at",
            field=models.DateTimeField(
                blank=True,
                help_text="When the export finished or was cut off; empty while it streams (or if the server died).",
                null=True,
            ),
        ),
        migrations.AlterField(
            model_name="dataexportlog",
            name="rows",
            field=models.PositiveIntegerField(help_text="Rows actually sent (counted as the export streamed)."),
        ),
        migrations.AlterField(
            model_name="proposal",
            name="kind",
            field=models.CharField(
                choices=[
                    ("contract_ratification", "Contract ratification"),
                    ("dua_ratification", "Data-use agreement ratification"),
                    ("pay_floor_change", "Pay floor change"),
                    ("coop_fee_change", "Co-op fee change"),
                    ("member_admission", "Member admission"),
                    ("suspension", "Suspension of a member"),
                    ("appeal", "Appeal"),
                    ("rate_cut_relaunch", "Relaunch of a project at a lower rate"),
                    ("bylaw_amendment", "Bylaw amendment"),
                    ("general_motion", "General motion"),
                    ("steward_election", "Steward election"),
                    ("steward_recall", "Recall of a steward"),
                    ("suspension_review", "Review of a suspension"),
                    ("contract_termination", "Termination of a contract"),
                    ("policy_change", "Change of a co-op rule"),
                    ("amendment", "Amendment to a motion"),
                    ("project_resume", "Resumption of a paused project"),
                ],
                db_index=True,
                max_length=32,
            ),
        ),
        migrations.RunPython(finish_existing, migrations.RunPython.noop),
    ]
