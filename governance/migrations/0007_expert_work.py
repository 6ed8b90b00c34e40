# Placeholder reserved for this session's work (filled by hand as the work lands).

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("governance", "0006_export_log_sent")]

    operations = []
