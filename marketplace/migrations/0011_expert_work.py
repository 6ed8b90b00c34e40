# Expert work (issue 13): qualifications with tests, grants by test or vote, rate-card rates, accuracy holds,
# bonuses, and the expert terms of a project. Written by hand from `makemigrations --dry-run`, only this
# work's operations. The new ledger transaction kinds (test_pay, bonus) and proposal kinds (rate_card_change,
# qualification_grant) are restated by 0012_benefits_fund / governance 0008, which carry every choice.

import django.core.validators
import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("coop", "0001_initial"),
        ("governance", "0007_expert_work"),
        ("marketplace", "0010_task_content_hash"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name='project',
            name='min_gold_accuracy',
            field=models.DecimalField(blank=True, decimal_places=3, help_text='Below this share of correct gold answers (after min_gold_answers of them) a member gets no more tasks.', max_digits=4, null=True, validators=[django.core.validators.MinValueValidator(0), django.core.validators.MaxValueValidator(1)]),
        ),
        migrations.AddField(
            model_name='project',
            name='min_gold_answers',
            field=models.PositiveSmallIntegerField(default=10, validators=[django.core.validators.MinValueValidator(1), django.core.validators.MaxValueValidator(1000)]),
        ),
        migrations.AddField(
            model_name='project',
            name='required_languages',
            field=models.JSONField(blank=True, default=list, help_text="Language codes a worker must list, e.g. ['de']."),
        ),
        migrations.CreateModel(
            name='BonusBatch',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('client_key', models.CharField(max_length=100)),
                ('amount', models.DecimalField(decimal_places=4, help_text='Per worker.', max_digits=12)),
                ('reason', models.CharField(max_length=500)),
                ('fingerprint', models.CharField(help_text='What was asked: a replay must ask the same.', max_length=64)),
                ('created_at', models.DateTimeField(default=django.utils.timezone.now)),
                ('organization', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='bonus_batches', to='coop.clientorganization')),
                ('project', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='bonus_batches', to='marketplace.project')),
            ],
        ),
        migrations.CreateModel(
            name='Bonus',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('amount', models.DecimalField(decimal_places=4, max_digits=12)),
                ('transaction', models.OneToOneField(on_delete=django.db.models.deletion.PROTECT, related_name='bonus', to='marketplace.ledgertransaction')),
                ('worker', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='bonuses', to=settings.AUTH_USER_MODEL)),
                ('batch', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='bonuses', to='marketplace.bonusbatch')),
            ],
        ),
        migrations.CreateModel(
            name='GoldAccuracyHold',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('status', models.CharField(choices=[('in_force', 'In force'), ('lifted', 'Lifted on appeal')], default='in_force', max_length=10)),
                ('gold_answered', models.PositiveIntegerField()),
                ('gold_correct', models.PositiveIntegerField()),
                ('accuracy', models.DecimalField(decimal_places=3, max_digits=4)),
                ('minimum', models.DecimalField(decimal_places=3, max_digits=4)),
                ('baseline_answered', models.PositiveIntegerField(default=0, help_text='Counts when lifted: accuracy is counted afresh after them.')),
                ('baseline_correct', models.PositiveIntegerField(default=0)),
                ('created_at', models.DateTimeField(default=django.utils.timezone.now)),
                ('lifted_at', models.DateTimeField(blank=True, null=True)),
                ('lifted_reason', models.CharField(blank=True, max_length=300)),
                ('project', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='accuracy_holds', to='marketplace.project')),
                ('worker', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='accuracy_holds', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'verbose_name': 'gold accuracy hold',
                'ordering': ['-created_at', '-id'],
            },
        ),
        migrations.CreateModel(
            name='Qualification',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('created_at', models.DateTimeField(db_index=True, default=django.utils.timezone.now, editable=False)),
                ('updated_at', models.DateTimeField(auto_now=True)),
                ('slug', models.SlugField(max_length=80, unique=True)),
                ('name', models.CharField(max_length=120)),
                ('description', models.TextField(blank=True)),
                ('tier', models.CharField(blank=True, help_text="A rate-card tier, e.g. 'expert' (optional).", max_length=40)),
                ('pass_mark', models.DecimalField(decimal_places=2, help_text='Percent of test items answered correctly.', max_digits=5)),
                ('retry_delay_hours', models.PositiveIntegerField(default=24)),
                ('valid_days', models.PositiveIntegerField(blank=True, help_text='A grant expires after this many days (empty: never).', null=True)),
                ('test_pay', models.DecimalField(decimal_places=4, help_text='Pay for taking the test, pass or fail.', max_digits=12)),
                ('test_estimated_seconds', models.PositiveIntegerField()),
                ('currency', models.CharField(default='USD', max_length=3)),
                ('is_active', models.BooleanField(default=True)),
                ('created_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('sponsor', models.ForeignKey(blank=True, help_text='The client who asked for it and pays for its tests; empty: the co-op pays.', null=True, on_delete=django.db.models.deletion.PROTECT, related_name='qualifications', to='coop.clientorganization')),
            ],
            options={
                'ordering': ['name'],
            },
        ),
        migrations.AddField(
            model_name='project',
            name='required_qualifications',
            field=models.ManyToManyField(blank=True, related_name='projects', to='marketplace.qualification'),
        ),
        migrations.CreateModel(
            name='QualificationAttempt',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('status', models.CharField(choices=[('open', 'In progress'), ('submitted', 'Submitted'), ('expired', 'Ran out of time')], default='open', max_length=12)),
                ('started_at', models.DateTimeField(default=django.utils.timezone.now)),
                ('expires_at', models.DateTimeField()),
                ('submitted_at', models.DateTimeField(blank=True, null=True)),
                ('items_total', models.PositiveIntegerField(default=0)),
                ('items_correct', models.PositiveIntegerField(default=0)),
                ('score', models.DecimalField(blank=True, decimal_places=2, max_digits=5, null=True)),
                ('passed', models.BooleanField(null=True)),
                ('pay', models.DecimalField(decimal_places=4, help_text="Fixed at the start: at least the floor for the test's time.", max_digits=12)),
                ('member', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='qualification_attempts', to=settings.AUTH_USER_MODEL)),
                ('pay_transaction', models.OneToOneField(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='qualification_attempt', to='marketplace.ledgertransaction')),
                ('qualification', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='attempts', to='marketplace.qualification')),
            ],
            options={
                'ordering': ['-started_at', '-id'],
            },
        ),
        migrations.CreateModel(
            name='QualificationGrant',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('source', models.CharField(choices=[('test', 'Passed the test'), ('vote', "Granted by the members' vote"), ('panel', 'Granted by a panel of peers')], max_length=8)),
                ('granted_at', models.DateTimeField(default=django.utils.timezone.now)),
                ('expires_at', models.DateTimeField(blank=True, null=True)),
                ('attempt', models.OneToOneField(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='grant', to='marketplace.qualificationattempt')),
                ('member', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='qualification_grants', to=settings.AUTH_USER_MODEL)),
                ('proposal', models.OneToOneField(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='governance.proposal')),
                ('qualification', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='grants', to='marketplace.qualification')),
            ],
            options={
                'ordering': ['-granted_at', '-id'],
            },
        ),
        migrations.CreateModel(
            name='QualificationNomination',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('created_at', models.DateTimeField(db_index=True, default=django.utils.timezone.now, editable=False)),
                ('updated_at', models.DateTimeField(auto_now=True)),
                ('evidence', models.TextField()),
                ('decided_by_panel', models.BooleanField(default=False)),
                ('candidate', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='qualification_nominations', to=settings.AUTH_USER_MODEL)),
                ('nominated_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('qualification', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='nominations', to='marketplace.qualification')),
            ],
            options={
                'abstract': False,
            },
        ),
        migrations.CreateModel(
            name='QualificationTestItem',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('position', models.PositiveIntegerField()),
                ('task_type', models.CharField(choices=[('ocr', 'OCR transcription'), ('classification', 'Classification'), ('pairwise', 'Pairwise preference')], max_length=16)),
                ('data', models.JSONField(default=dict)),
                ('image', models.FileField(blank=True, max_length=300, upload_to='qualifications/')),
                ('choices', models.JSONField(blank=True, default=list)),
                ('case_sensitive', models.BooleanField(default=False)),
                ('gold', models.JSONField()),
                ('explanation', models.TextField(blank=True, help_text="Shown with the member's score after the attempt.")),
                ('qualification', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='items', to='marketplace.qualification')),
            ],
            options={
                'ordering': ['position', 'id'],
            },
        ),
        migrations.CreateModel(
            name='QualificationAttemptAnswer',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('payload', models.JSONField()),
                ('correct', models.BooleanField()),
                ('attempt', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='answers', to='marketplace.qualificationattempt')),
                ('item', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='marketplace.qualificationtestitem')),
            ],
        ),
        migrations.CreateModel(
            name='RateCardRate',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('tier', models.CharField(blank=True, max_length=40)),
                ('hourly_minimum', models.DecimalField(decimal_places=2, max_digits=12)),
                ('currency', models.CharField(default='USD', max_length=3)),
                ('effective_from', models.DateTimeField(default=django.utils.timezone.now)),
                ('proposal', models.OneToOneField(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='governance.proposal')),
                ('qualification', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='rates', to='marketplace.qualification')),
            ],
            options={
                'ordering': ['-effective_from', '-id'],
            },
        ),
        migrations.AddConstraint(
            model_name='bonusbatch',
            constraint=models.UniqueConstraint(fields=('organization', 'client_key'), name='one_bonus_batch_per_client_key'),
        ),
        migrations.AddConstraint(
            model_name='bonusbatch',
            constraint=models.CheckConstraint(condition=models.Q(('amount__gt', 0)), name='bonus_amount_positive'),
        ),
        migrations.AddConstraint(
            model_name='bonus',
            constraint=models.UniqueConstraint(fields=('batch', 'worker'), name='one_bonus_per_batch_and_worker'),
        ),
        migrations.AddConstraint(
            model_name='goldaccuracyhold',
            constraint=models.UniqueConstraint(condition=models.Q(('status', 'in_force')), fields=('project', 'worker'), name='one_accuracy_hold_in_force'),
        ),
        migrations.AddConstraint(
            model_name='qualification',
            constraint=models.CheckConstraint(condition=models.Q(('pass_mark__gt', 0), ('pass_mark__lte', 100)), name='qualification_pass_mark_percent'),
        ),
        migrations.AddConstraint(
            model_name='qualification',
            constraint=models.CheckConstraint(condition=models.Q(('test_pay__gt', 0)), name='qualification_test_pay_positive'),
        ),
        migrations.AddConstraint(
            model_name='qualification',
            constraint=models.CheckConstraint(condition=models.Q(('test_estimated_seconds__gt', 0)), name='qualification_test_time_positive'),
        ),
        migrations.AddConstraint(
            model_name='qualificationattempt',
            constraint=models.UniqueConstraint(condition=models.Q(('status', 'open')), fields=('qualification', 'member'), name='one_open_attempt_per_member_and_qualification'),
        ),
        migrations.AddConstraint(
            model_name='qualificationattempt',
            constraint=models.CheckConstraint(condition=models.Q(('items_correct__lte', models.F('items_total'))), name='attempt_correct_within_total'),
        ),
        migrations.AddConstraint(
            model_name='qualificationattempt',
            constraint=models.CheckConstraint(condition=models.Q(('pay__gt', 0)), name='attempt_pay_positive'),
        ),
        migrations.AddConstraint(
            model_name='qualificationgrant',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('source', 'test'), ('attempt__isnull', False), ('proposal__isnull', True)), models.Q(('source__in', ['vote', 'panel']), ('attempt__isnull', True), ('proposal__isnull', False)), _connector='OR'), name='grant_by_test_or_by_vote_only'),
        ),
        migrations.AddConstraint(
            model_name='qualificationtestitem',
            constraint=models.UniqueConstraint(fields=('qualification', 'position'), name='qualification_item_position_unique'),
        ),
        migrations.AddConstraint(
            model_name='qualificationattemptanswer',
            constraint=models.UniqueConstraint(fields=('attempt', 'item'), name='one_answer_per_attempt_item'),
        ),
        migrations.AddConstraint(
            model_name='ratecardrate',
            constraint=models.CheckConstraint(condition=models.Q(('hourly_minimum__gt', 0)), name='rate_card_rate_positive'),
        ),
        migrations.AddConstraint(
            model_name='ratecardrate',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('qualification__isnull', False), ('tier', '')), models.Q(('qualification__isnull', True), models.Q(('tier', ''), _negated=True)), _connector='OR'), name='rate_card_for_qualification_xor_tier'),
        ),
        migrations.CreateModel(
            name='InstructionsVersion',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('version', models.PositiveIntegerField()),
                ('instructions', models.TextField()),
                ('note', models.CharField(blank=True, help_text="What changed and why, in the client's words.", max_length=500)),
                ('created_at', models.DateTimeField(default=django.utils.timezone.now)),
                ('project', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='instruction_versions', to='marketplace.project')),
            ],
            options={
                'ordering': ['project', 'version'],
                'constraints': [models.UniqueConstraint(fields=('project', 'version'), name='one_instructions_version_number')],
            },
        ),
        migrations.CreateModel(
            name='PayoutDestination',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('method', models.CharField(choices=[('bank', 'Bank transfer'), ('mobile_money', 'Mobile money (e.g. M-Pesa)'), ('other', 'Other')], max_length=16)),
                ('details', models.JSONField(help_text='What a steward needs to send the money (shown only on the payout desk).')),
                ('masked', models.CharField(help_text="Shown everywhere else, e.g. 'M-Pesa ••••4321'.", max_length=120)),
                ('is_current', models.BooleanField(default=True)),
                ('created_at', models.DateTimeField(default=django.utils.timezone.now)),
                ('payouts_held_until', models.DateTimeField()),
                ('member', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='payout_destinations', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'ordering': ['-created_at', '-id'],
                'constraints': [models.UniqueConstraint(condition=models.Q(('is_current', True)), fields=('member',), name='one_current_payout_destination')],
            },
        ),
        migrations.CreateModel(
            name='ProjectQuestion',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('body', models.TextField()),
                ('asked_at', models.DateTimeField(default=django.utils.timezone.now)),
                ('answer', models.TextField(blank=True)),
                ('answered_at', models.DateTimeField(blank=True, null=True)),
                ('answered_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('asked_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='project_questions', to=settings.AUTH_USER_MODEL)),
                ('project', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='questions', to='marketplace.project')),
            ],
            options={
                'ordering': ['asked_at', 'id'],
                'constraints': [models.CheckConstraint(condition=models.Q(('answer', ''), ('answered_at__isnull', False), _connector='OR'), name='question_answer_has_time')],
            },
        ),
    ]
