from django.db import migrations, models


class Migration(migrations.Migration):
    """The answers export reads a project's answers in submission order: an index in that order lets it stream
    from the first row instead of sorting every answer of the project before the first byte."""

    dependencies = [("marketplace", "0015_hot_path")]

    operations = [
        migrations.AddIndex(model_name="answer", index=models.Index(fields=["submitted_at", "id"], name="answer_export_order")),
    ]
