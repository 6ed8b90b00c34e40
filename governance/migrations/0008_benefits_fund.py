# The benefits fund (marketplace/benefits): its rules are policies members change by proposal, seeded here with
# their founding values, and a claim above the auto-approval limit is decided by a vote of kind "benefit_claim".
# The two AlterFields only restate the choices (no schema change); they carry every key and kind in the models
# when this was written.

import datetime
from decimal import Decimal

from django.db import migrations, models

FOUNDING = datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC)
SEED = {
    "benefits_share_of_fee": Decimal("0.20"),
    "benefits_min_answers": Decimal(20),
    "benefits_min_hours": Decimal(10),
    "benefits_day_pay_cap": Decimal("100.00"),
    "benefits_sick_days": Decimal(10),
    "benefits_parental_days": Decimal(30),
    "benefits_hardship_limit": Decimal("300.00"),
    "benefits_equipment_limit": Decimal("200.00"),
    "benefits_auto_approve_max": Decimal("150.00"),
    "benefits_vote_threshold": Decimal("1000.00"),
}


def seed(apps, schema_editor):
    PolicyValue = apps.get_model("governance", "PolicyValue")
    for key, value in SEED.items():
        if not PolicyValue.objects.filter(key=key).exists():
            PolicyValue.objects.create(key=key, value=value, effective_from=FOUNDING, set_by=None, created_at=FOUNDING)


def unseed(apps, schema_editor):
    apps.get_model("governance", "PolicyValue").objects.filter(set_by__isnull=True, key__in=list(SEED)).delete()


class Migration(migrations.Migration):
    dependencies = [("governance", "0007_expert_work")]

    operations = [
        migrations.AlterField(
            model_name='policyvalue',
            name='key',
            field=models.CharField(choices=[('pay_floor_hourly', 'Pay floor (USD per hour)'), ('coop_fee_rate', 'Co-op fee (share of client payments)'), ('proposal_cosponsors', "Co-sponsors a member's proposal needs"), ('proxy_limit', 'Proxies one delegate may hold'), ('interim_suspension_days', 'Longest interim suspension (days)'), ('appeal_window_days', 'Days to appeal a rejected answer'), ('benefits_share_of_fee', 'Share of the co-op fee set aside for the benefits fund'), ('benefits_min_answers', 'Accepted answers in 90 days that make a member eligible for benefits'), ('benefits_min_hours', 'Hours of accepted work in 90 days that make a member eligible for benefits'), ('benefits_day_pay_cap', 'Most a benefit day pays'), ('benefits_sick_days', 'Paid sick days per member per year'), ('benefits_parental_days', 'Paid parental-leave days per member per year'), ('benefits_hardship_limit', 'Hardship support per member per year'), ('benefits_equipment_limit', 'Equipment support per member per year'), ('benefits_auto_approve_max', 'Largest benefit claim the rules approve without a decision'), ('benefits_vote_threshold', 'Benefit claims above this go to all members (below it, to a panel)')], max_length=48),
        ),
        migrations.AlterField(
            model_name='proposal',
            name='kind',
            field=models.CharField(choices=[('contract_ratification', 'Contract ratification'), ('dua_ratification', 'Data-use agreement ratification'), ('pay_floor_change', 'Pay floor change'), ('coop_fee_change', 'Co-op fee change'), ('member_admission', 'Member admission'), ('suspension', 'Suspension of a member'), ('appeal', 'Appeal'), ('rate_cut_relaunch', 'Relaunch of a project at a lower rate'), ('bylaw_amendment', 'Bylaw amendment'), ('general_motion', 'General motion'), ('steward_election', 'Steward election'), ('steward_recall', 'Recall of a steward'), ('suspension_review', 'Review of a suspension'), ('contract_termination', 'Termination of a contract'), ('policy_change', 'Change of a co-op rule'), ('amendment', 'Amendment to a motion'), ('benefit_claim', 'Benefit claim from the benefits fund'), ('rate_card_change', 'Rate card change (minimum hourly pay for a skill)'), ('qualification_grant', 'Grant of a qualification without its test'), ('project_resume', 'Resumption of a paused project')], db_index=True, max_length=32),
        ),
        migrations.RunPython(seed, unseed),
    ]
