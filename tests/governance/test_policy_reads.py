"""policy_current / policies_current: the value in force at a time, on SQLite (ORM) and PostgreSQL (plain SQL)."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from coop.errors import NotFound
from governance.models import PolicyValue
from governance.rules import POLICIES
from governance.selectors import policies_current, policy_current

pytestmark = pytest.mark.django_db


def test_the_value_in_force_is_the_latest_that_took_effect_and_a_scheduled_one_waits():
    now = timezone.now()
    key = "pay_floor_hourly"
    PolicyValue.objects.create(key=key, value=Decimal("21.00"), effective_from=now - dt.timedelta(hours=2))
    PolicyValue.objects.create(key=key, value=Decimal("22.50"), effective_from=now - dt.timedelta(hours=1))
    PolicyValue.objects.create(key=key, value=Decimal("30.00"), effective_from=now + dt.timedelta(hours=1))  # voted, not yet in force
    assert policy_current(key, now) == Decimal("22.50")
    assert policy_current(key, now - dt.timedelta(minutes=90)) == Decimal("21.00")
    assert policy_current(key, now + dt.timedelta(hours=2)) == Decimal("30.00")
    assert isinstance(policy_current(key, now), Decimal)


def test_two_values_from_the_same_moment_the_later_recorded_wins():
    moment = timezone.now() - dt.timedelta(minutes=5)
    PolicyValue.objects.create(key="coop_fee_rate", value=Decimal("0.04"), effective_from=moment)
    PolicyValue.objects.create(key="coop_fee_rate", value=Decimal("0.06"), effective_from=moment)
    assert policy_current("coop_fee_rate") == Decimal("0.06")


def test_several_policies_in_one_read_each_at_its_own_latest_value():
    now = timezone.now()
    PolicyValue.objects.create(key="coop_fee_rate", value=Decimal("0.07"), effective_from=now - dt.timedelta(days=1))
    PolicyValue.objects.create(key="benefits_share_of_fee", value=Decimal("0.25"), effective_from=now - dt.timedelta(days=2))
    PolicyValue.objects.create(key="benefits_share_of_fee", value=Decimal("0.30"), effective_from=now + dt.timedelta(days=1))
    assert policies_current(["coop_fee_rate", "benefits_share_of_fee"], now) == {
        "coop_fee_rate": Decimal("0.07"),
        "benefits_share_of_fee": Decimal("0.25"),
    }


def test_before_any_recorded_value_the_founding_value_applies_and_an_unknown_policy_is_refused():
    long_ago = dt.datetime(2000, 1, 1, tzinfo=dt.timezone.utc)
    assert policy_current("pay_floor_hourly", long_ago) == POLICIES["pay_floor_hourly"].founding
    with pytest.raises(NotFound) as refused:
        policy_current("no_such_policy")
    assert refused.value.code == "policy_not_set"
    with pytest.raises(NotFound):
        policies_current(["coop_fee_rate", "no_such_policy"])
