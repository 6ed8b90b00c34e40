"""Start-up checks: `manage.py runserver` on a database that is not set up stops with what to do, not with 500s."""

from __future__ import annotations

import sys

from django.core.checks import Error, register
from django.db import DEFAULT_DB_ALIAS, OperationalError, connections
from django.db.migrations.executor import MigrationExecutor


@register("coop")
def database_is_migrated(app_configs=None, **kwargs) -> list[Error]:
    """Only when serving (runserver): unapplied migrations are an error, with the two ways to fix it."""
    if "runserver" not in sys.argv[1:2]:
        return []
    try:
        executor = MigrationExecutor(connections[DEFAULT_DB_ALIAS])
        pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
    except OperationalError as error:
        return [Error(f"The database cannot be reached: {error}", hint="Check DATABASE_URL (unset it for SQLite).", id="coop.E002")]
    if not pending:
        return []
    return [
        Error(
            f"The database is not set up yet ({len(pending)} migrations to apply), so every page would fail.",
            hint="Run `bash scripts/run` (sets up, migrates, adds demo data and serves), "
            "or `python manage.py migrate` and then runserver again.",
            id="coop.E001",
        )
    ]
