"""coop.rows: instances built from hand-written SQL equal what a queryset builds, field by field, on either database."""

import datetime as dt

import pytest
from django.db import connection

from coop.models import Membership, User
from coop.rows import fetch_instances, insert_instance, select_list, update_instance

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


def test_insert_and_update_write_what_save_writes():
    users = [User.objects.create_user(email=f"rows-{i}@example.org", password=None) for i in range(2)]
    values = {"display_name": "Ama ✓", "country": "GH", "languages": ["tw", "en"], "skills": [],
              "admitted_at": dt.datetime(2026, 5, 6, 7, 8, 9, 123456, tzinfo=dt.timezone.utc)}
    Membership(user=users[0], **values).save()
    written = Membership(user=users[1], **values)
    insert_instance(written)
    assert written.pk and not written._state.adding and written._state.db == connection.alias
    rows = {m.user_id: _fields(m) for m in Membership.objects.filter(user__in=users)}
    assert _fields(written) == rows[users[1].pk]  # the instance holds what the row holds (pk, defaults, auto_now)
    same = lambda row: {k: v for k, v in row.items() if k not in ("id", "user_id", "created_at", "updated_at")}  # noqa: E731
    assert same(rows[users[0].pk]) == same(rows[users[1].pk]) and rows[users[1].pk]["updated_at"] is not None

    written.display_name, written.languages, written.status = "Renamed", ["sw"], "active"
    update_instance(written, ["display_name", "languages", "updated_at"])  # status is not among them: not written
    fresh = Membership.objects.get(pk=written.pk)
    assert (fresh.display_name, fresh.languages, fresh.status) == ("Renamed", ["sw"], "applied")
    assert fresh.updated_at == written.updated_at >= rows[users[1].pk]["updated_at"]  # auto_now ran, as in save()
    assert Membership.objects.get(user=users[0]).display_name == "Ama ✓"  # only that row
