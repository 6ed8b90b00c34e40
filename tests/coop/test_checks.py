"""`manage.py runserver` on a database that was never migrated stops with what to do, instead of serving 500s."""

import pytest
from django.db.migrations.executor import MigrationExecutor

from coop import checks

pytestmark = pytest.mark.django_db


def test_runserver_on_a_migrated_database_passes(monkeypatch):
    monkeypatch.setattr("sys.argv", ["manage.py", "runserver"])
    assert checks.database_is_migrated() == []


def test_runserver_on_an_unmigrated_database_stops_with_the_fix(monkeypatch):
    monkeypatch.setattr("sys.argv", ["manage.py", "runserver"])
    monkeypatch.setattr(MigrationExecutor, "migration_plan", lambda self, targets: [("coop", "0001_initial")] * 47)
    [error] = checks.database_is_migrated()
    assert error.id == "coop.E001" and "47 migrations" in error.msg and "bash scripts/run" in error.hint


def test_other_commands_are_not_held_up(monkeypatch):
    monkeypatch.setattr("sys.argv", ["manage.py", "migrate"])
    monkeypatch.setattr(MigrationExecutor, "migration_plan", lambda self, targets: [("coop", "0001_initial")])
    assert checks.database_is_migrated() == []
