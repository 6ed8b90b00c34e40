from django.db import migrations


class Migration(migrations.Migration):
    """Indexes and fields for the hot path (next + submit)."""

    dependencies = [("marketplace", "0014_rlhf_task_types")]

    operations = []
