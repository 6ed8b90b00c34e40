"""coop.rows: instances built from hand-written SQL equal what a queryset builds, field by field, on either database."""

import datetime as dt

import pytest
from django.db import connection

from coop.models import Membership, User
from coop.rows import fetch_instances, select_list

pytestmark = pytest.mark.django_db


def _fields(instance):
    return {field.attname: getattr(instance, field.attname) for field in type(instance)._meta.concrete_fields}


def test_a_joined_row_makes_the_same_instances_as_select_related(member):
    membership = member.membership
    membership.languages, membership.skills = ["sw", "en"], ["ocr", "médical ✓"]
    membership.admitted_at = dt.datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=dt.timezone.utc)
    membership.save()
    sql = (
        f"SELECT {select_list(Membership, 'm')}, {select_list(User, 'u')} FROM {Membership._meta.db_table} m"
        f" JOIN {User._meta.db_table} u ON u.id = m.user_id WHERE m.id = %s"
    )
    got_membership, got_user = fetch_instances(sql, [membership.pk], [Membership, User])
    expected = Membership.objects.select_related("user").get(pk=membership.pk)
    assert _fields(got_membership) == _fields(expected)
    assert _fields(got_user) == _fields(expected.user)
    assert got_membership.languages == ["sw", "en"] and isinstance(got_membership.is_steward, bool)
    assert got_membership.admitted_at == membership.admitted_at and got_membership.admitted_at.tzinfo is not None
    assert not got_membership._state.adding and got_membership._state.db == connection.alias
    got_membership.display_name = "Renamed"
    got_membership.save(update_fields=["display_name"])  # a saved instance, as the ORM's would be
    assert Membership.objects.get(pk=membership.pk).display_name == "Renamed"


def test_no_row_is_none(member):
    sql = f"SELECT {select_list(User, 'u')} FROM {User._meta.db_table} u WHERE u.id = %s"
    assert fetch_instances(sql, [member.pk + 10_000], [User]) is None
