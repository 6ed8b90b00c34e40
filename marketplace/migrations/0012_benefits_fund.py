# Placeholder reserved for this session's work (filled by hand as the work lands).

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("marketplace", "0011_expert_work")]

    operations = []
