"""PostgreSQL runs with server-side binding, and psycopg prepares a statement a connection keeps running
(config/settings.py: DB_PREPARE_THRESHOLD): the hot path's statements are parsed and planned once per connection."""

import pytest
from django.db import connection

from marketplace.models import Answer
from tests.conftest import requires_postgres

pytestmark = pytest.mark.django_db


@requires_postgres
def test_a_statement_run_again_and_again_is_prepared_once():
    for pk in range(1, 6):  # different values, one statement
        list(Answer.objects.filter(pk=pk, status="accepted"))
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        prepared = [row[0] for row in cursor.fetchall()]
    answer_reads = [sql for sql in prepared if 'FROM "marketplace_answer"' in sql and '"status" = $2' in sql]
    assert len(answer_reads) == 1, prepared  # bound as $1, $2 by PostgreSQL: one plan for every value
