"""The founding values of the co-op's policies: a pay floor of USD 20.00 per hour and a 5 % co-op fee.

They are in force from the co-op's founding (2020-01-01 UTC) until a vote changes them.
"""

import datetime
from decimal import Decimal

from django.db import migrations

FOUNDING = datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC)
SEED = {"pay_floor_hourly": Decimal("20.00"), "coop_fee_rate": Decimal("0.05")}


def seed(apps, schema_editor):
    PolicyValue = apps.get_model("governance", "PolicyValue")
    for key, value in SEED.items():
        if not PolicyValue.objects.filter(key=key).exists():
            PolicyValue.objects.create(key=key, value=value, effective_from=FOUNDING, set_by=None, created_at=FOUNDING)


def unseed(apps, schema_editor):
    PolicyValue = apps.get_model("governance", "PolicyValue")
    PolicyValue.objects.filter(set_by__isnull=True, effective_from=FOUNDING, key__in=list(SEED)).delete()


class Migration(migrations.Migration):
    dependencies = [("governance", "0001_initial")]
    operations = [migrations.RunPython(seed, unseed)]
