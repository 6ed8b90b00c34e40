# Quality gates (promotion verdicts and overrides), recovery of runs whose worker died (heartbeat, worker, recoveries;
# one metric point per step), retirement of models whose rights were revoked, the pre-fill served per assignment, and
# members' credit preference on model cards.

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


def drop_duplicate_metric_points(apps, schema_editor):
    """Before the unique (run, event, step) constraint: keep the newest point of each step a resumed attempt replayed."""
    TrainingMetric = apps.get_model("mlops", "TrainingMetric")
    seen = set()
    for pk, run_id, event, step in TrainingMetric.objects.order_by("-id").values_list("pk", "run_id", "event", "step").iterator():
        key = (run_id, event, step)
        if key in seen:
            TrainingMetric.objects.filter(pk=pk).delete()
        else:
            seen.add(key)


class Migration(migrations.Migration):
    dependencies = [
        ("coop", "0001_initial"),
        ("governance", "0001_initial"),
        ("marketplace", "0002_ledger"),  # Assignment exists from marketplace's first migrations on
        ("mlops", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="ContributorCredit",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("credit_by_name", models.BooleanField(default=False)),
                ("updated_at", models.DateTimeField(auto_now=True)),
                ("user", models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name="model_credit", to=settings.AUTH_USER_MODEL)),
            ],
        ),
        migrations.CreateModel(
            name='PrefillServed',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('text', models.CharField(max_length=1000)),
                ('confidence', models.FloatField()),
                ('created_at', models.DateTimeField(default=django.utils.timezone.now)),
            ],
        ),
        migrations.CreateModel(
            name='ServingRestriction',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('reason', models.CharField(max_length=300)),
                ('created_at', models.DateTimeField(default=django.utils.timezone.now)),
            ],
            options={
                'ordering': ['id'],
            },
        ),
        migrations.AddField(
            model_name='modelpromotion',
            name='gate',
            field=models.JSONField(blank=True, default=dict, help_text="The quality gate's verdict when it was promoted."),
        ),
        migrations.AddField(
            model_name='modelpromotion',
            name='override_reason',
            field=models.CharField(blank=True, help_text='Why a steward promoted it past a failed gate.', max_length=500),
        ),
        migrations.AddField(
            model_name='modelversion',
            name='retired_at',
            field=models.DateTimeField(blank=True, help_text='Set when the rights it was trained under were revoked.', null=True),
        ),
        migrations.AddField(
            model_name='modelversion',
            name='retired_reason',
            field=models.CharField(blank=True, max_length=300),
        ),
        migrations.AddField(
            model_name='trainingrun',
            name='heartbeat_at',
            field=models.DateTimeField(blank=True, help_text='Last sign of life of the worker training it.', null=True),
        ),
        migrations.AddField(
            model_name='trainingrun',
            name='recoveries',
            field=models.PositiveSmallIntegerField(default=0, help_text='Times the scheduler re-enqueued it after its worker died (bounded by MLOPS_RUN_MAX_RECOVERIES).'),
        ),
        migrations.AddField(
            model_name='trainingrun',
            name='worker',
            field=models.CharField(blank=True, help_text='host:pid of the worker process of the current attempt.', max_length=200),
        ),
        migrations.AlterField(
            model_name='modelpromotion',
            name='action',
            field=models.CharField(choices=[('promote', 'Promoted'), ('rollback', 'Rolled back to'), ('retire', 'Retired')], max_length=10),
        ),
        migrations.AddIndex(
            model_name='trainingrun',
            index=models.Index(condition=models.Q(('status', 'running')), fields=['heartbeat_at'], name='running_run_heartbeat'),
        ),
        migrations.AddConstraint(
            model_name='modelversion',
            constraint=models.CheckConstraint(condition=models.Q(('retired_at__isnull', True), ('promoted', False), _connector='OR'), name='retired_version_not_promoted'),
        ),
        migrations.RunPython(drop_duplicate_metric_points, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name='trainingmetric',
            constraint=models.UniqueConstraint(fields=('run', 'event', 'step'), name='one_metric_point_per_step'),
        ),
        migrations.AddField(
            model_name='prefillserved',
            name='assignment',
            field=models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='marketplace.assignment'),
        ),
        migrations.AddField(
            model_name='prefillserved',
            name='model_version',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='mlops.modelversion'),
        ),
        migrations.AddField(
            model_name='servingrestriction',
            name='dua',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='governance.datauseagreement'),
        ),
        migrations.AddField(
            model_name='servingrestriction',
            name='model_version',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='restrictions', to='mlops.modelversion'),
        ),
        migrations.AddField(
            model_name='servingrestriction',
            name='organization',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='coop.clientorganization'),
        ),
        migrations.AddConstraint(
            model_name='servingrestriction',
            constraint=models.UniqueConstraint(fields=('model_version', 'organization'), name='one_restriction_per_org'),
        ),
    ]
