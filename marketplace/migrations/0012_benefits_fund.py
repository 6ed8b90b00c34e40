# The benefits fund (marketplace/benefits): the `benefits` ledger account kind, the fee-share and benefit-payout
# transaction kinds, and claims with their private evidence. Filled by hand with this work's operations only.
# The two kind AlterFields carry every choice in the models when this was written (0011's included).

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("marketplace", "0011_expert_work"),
        ("governance", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='BenefitClaim',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('created_at', models.DateTimeField(db_index=True, default=django.utils.timezone.now, editable=False)),
                ('updated_at', models.DateTimeField(auto_now=True)),
                ('kind', models.CharField(choices=[('sick_days', 'Sick days'), ('parental_leave', 'Parental leave'), ('hardship', 'Hardship'), ('equipment', 'Equipment')], max_length=16)),
                ('start_date', models.DateField()),
                ('end_date', models.DateField()),
                ('days', models.PositiveIntegerField(default=0, help_text='Days claimed (day kinds); 0 for an amount claim.')),
                ('day_pay', models.DecimalField(blank=True, decimal_places=4, max_digits=18, null=True)),
                ('amount', models.DecimalField(decimal_places=4, max_digits=18)),
                ('currency', models.CharField(default='USD', max_length=3)),
                ('statement', models.TextField(help_text='Private: the member and the deciders only.')),
                ('status', models.CharField(choices=[('pending', 'Waiting for a decision'), ('approved', 'Approved, waiting for the fund'), ('paid', 'Paid'), ('rejected', 'Not approved')], db_index=True, default='pending', max_length=10)),
                ('route', models.CharField(choices=[('rules', 'The rules (small claim within the rules)'), ('panel', 'A panel of members drawn at random'), ('members', 'A vote of all members')], max_length=8)),
                ('rules_check', models.TextField(blank=True, help_text='What the rules found when the claim was filed.')),
                ('decided_at', models.DateTimeField(blank=True, null=True)),
                ('decision_reasons', models.TextField(blank=True)),
                ('paid_at', models.DateTimeField(blank=True, null=True)),
            ],
            options={
                'ordering': ['-created_at', '-id'],
            },
        ),
        migrations.CreateModel(
            name='BenefitEvidence',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('note', models.TextField(blank=True)),
                ('filename', models.CharField(blank=True, max_length=200)),
                ('content_type', models.CharField(blank=True, max_length=100)),
                ('content', models.BinaryField(blank=True, null=True)),
                ('created_at', models.DateTimeField(auto_now_add=True)),
            ],
        ),
        migrations.RemoveConstraint(
            model_name='ledgeraccount',
            name='ledger_account_owner_matches_kind',
        ),
        migrations.AlterField(
            model_name='ledgeraccount',
            name='kind',
            field=models.CharField(choices=[('coop_bank', 'Co-op bank (real-world money)'), ('client_cash', 'Client cash'), ('project_escrow', 'Project escrow'), ('worker_earnings', 'Worker earnings (available)'), ('worker_payout_pending', 'Worker payout requested'), ('coop_fees', 'Co-op fees'), ('dividend_pool', 'Dividend pool'), ('benefits', 'Benefits fund')], max_length=24),
        ),
        migrations.AlterField(
            model_name='ledgertransaction',
            name='kind',
            field=models.CharField(choices=[('deposit', 'Client deposit'), ('escrow_fund', 'Escrow funded'), ('earning', 'Accepted answer paid'), ('top_up', 'Top-up'), ('coop_fee', 'Co-op fee'), ('payout_request', 'Payout requested'), ('payout_paid', 'Payout paid'), ('payout_cancel', 'Payout cancelled'), ('refund', 'Escrow refunded'), ('dividend', 'Dividend'), ('correction', 'Correction'), ('test_pay', 'Qualification test paid'), ('bonus', 'Bonus from a client'), ('benefits_share', 'Benefits fund share of a co-op fee'), ('benefit_payout', 'Benefit paid from the fund')], db_index=True, max_length=16),
        ),
        migrations.AddConstraint(
            model_name='ledgeraccount',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('kind__in', ['client_cash']), ('organization__isnull', False), ('project__isnull', True), ('user__isnull', True)), models.Q(('kind__in', ['project_escrow']), ('organization__isnull', True), ('project__isnull', False), ('user__isnull', True)), models.Q(('kind__in', ['worker_earnings', 'worker_payout_pending']), ('organization__isnull', True), ('project__isnull', True), ('user__isnull', False)), models.Q(('kind__in', ['coop_bank', 'coop_fees', 'dividend_pool', 'benefits']), ('organization__isnull', True), ('project__isnull', True), ('user__isnull', True)), _connector='OR'), name='ledger_account_owner_matches_kind'),
        ),
        migrations.AddField(
            model_name='benefitclaim',
            name='member',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='benefit_claims', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AddField(
            model_name='benefitclaim',
            name='paid_transaction',
            field=models.OneToOneField(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='benefit_claim', to='marketplace.ledgertransaction'),
        ),
        migrations.AddField(
            model_name='benefitclaim',
            name='proposal',
            field=models.OneToOneField(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='benefit_claim', to='governance.proposal'),
        ),
        migrations.AddField(
            model_name='benefitevidence',
            name='claim',
            field=models.OneToOneField(on_delete=django.db.models.deletion.PROTECT, related_name='evidence', to='marketplace.benefitclaim'),
        ),
        migrations.AddIndex(
            model_name='benefitclaim',
            index=models.Index(fields=['status', 'currency', 'created_at', 'id'], name='benefit_claim_queue'),
        ),
        migrations.AddIndex(
            model_name='benefitclaim',
            index=models.Index(fields=['member', 'start_date'], name='benefit_claim_member_dates'),
        ),
        migrations.AddConstraint(
            model_name='benefitclaim',
            constraint=models.CheckConstraint(condition=models.Q(('amount__gt', 0)), name='benefit_claim_amount_positive'),
        ),
        migrations.AddConstraint(
            model_name='benefitclaim',
            constraint=models.CheckConstraint(condition=models.Q(('end_date__gte', models.F('start_date'))), name='benefit_claim_dates_in_order'),
        ),
        migrations.AddConstraint(
            model_name='benefitclaim',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('status', 'paid'), _negated=True), ('paid_transaction__isnull', False), _connector='OR'), name='benefit_claim_paid_has_transaction'),
        ),
    ]
