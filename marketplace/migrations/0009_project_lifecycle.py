from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("marketplace", "0008_guarantees"),
    ]

    operations = [
        migrations.AddField(
            model_name="project",
            name="pause_kind",
            field=models.CharField(
                blank=True,
                choices=[
                    ("client", "Paused by the client"),
                    ("funds", "Escrow could not pay accepted work"),
                    ("floor", "Pays below the pay floor now in force"),
                    ("members", "Members flagged it"),
                    ("steward", "A steward paused it"),
                ],
                help_text="Who paused it (while paused).",
                max_length=12,
            ),
        ),
        migrations.AlterField(
            model_name="project",
            name="status",
            field=models.CharField(
                choices=[
                    ("draft", "Draft"),
                    ("published", "Published"),
                    ("paused", "Paused"),
                    ("held", "Held for a member vote"),
                    ("completed", "Completed"),
                    ("cancelled", "Cancelled"),
                    ("closed", "Closed (books closed, unspent escrow returned)"),
                ],
                db_index=True,
                default="draft",
                max_length=16,
            ),
        ),
        # Existing pauses: the flag pauses said so in their reason; the rest were the client's or the escrow's.
        migrations.RunSQL(
            "UPDATE marketplace_project SET pause_kind = CASE "
            "WHEN status_reason LIKE 'Paused after members%%' THEN 'members' "
            "WHEN status_reason LIKE 'Escrow cannot%%' OR status_reason LIKE 'Pay was raised%%' THEN 'funds' "
            "ELSE 'client' END WHERE status = 'paused'",
            migrations.RunSQL.noop,
        ),
    ]
