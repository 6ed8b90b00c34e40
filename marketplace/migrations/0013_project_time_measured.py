# After a pay raise the posted time per task is the members' measured median, and says so.

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("marketplace", "0012_benefits_fund")]

    operations = [
        migrations.AddField(
            model_name="project",
            name="time_measured",
            field=models.BooleanField(
                default=False,
                help_text="estimated_seconds is the members' measured median (set by a pay raise), not the client's estimate.",
            ),
        ),
    ]
