# Secret ballots sealed while open and written in one shuffled batch at close;
# the governance log becomes a hash chain that the database keeps append-only.

import uuid

import django.db.models.deletion
from django.db import migrations, models

from governance.audit_chain import GENESIS_HASH, row_hash

# On PostgreSQL the database refuses UPDATE and DELETE of log rows (TRUNCATE,
# used by test flushes and nothing else, still works), as for the ledger.
# On SQLite a trigger refuses UPDATE; DELETE is refused by the model (test
# flushes on SQLite delete rows), and the hash chain shows any deleted entry.
PG_APPEND_ONLY_SQL = """
CREATE OR REPLACE FUNCTION governance_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'governance log rows are append-only: % on % is not allowed', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'restrict_violation';
END;
$$;
CREATE TRIGGER governance_governancelog_append_only BEFORE UPDATE OR DELETE ON governance_governancelog
    FOR EACH ROW EXECUTE FUNCTION governance_log_append_only();
"""
PG_DROP_SQL = """
DROP TRIGGER IF EXISTS governance_governancelog_append_only ON governance_governancelog;
DROP FUNCTION IF EXISTS governance_log_append_only();
"""
SQLITE_APPEND_ONLY_SQL = """
CREATE TRIGGER governance_governancelog_no_update BEFORE UPDATE ON governance_governancelog
BEGIN
    SELECT RAISE(ABORT, 'governance log rows are append-only: UPDATE is not allowed');
END;
"""
SQLITE_DROP_SQL = "DROP TRIGGER IF EXISTS governance_governancelog_no_update;"


def _vendor_sql(*, postgresql, sqlite):
    def run(apps, schema_editor):
        sql = {"postgresql": postgresql, "sqlite": sqlite}.get(schema_editor.connection.vendor)
        if sql:
            schema_editor.execute(sql, params=None)  # no placeholders: the SQL contains "%"

    return run


def chain_existing_entries(apps, schema_editor):
    """Give the entries written before the chain existed their hashes, oldest (lowest id) first."""
    GovernanceLog = apps.get_model("governance", "GovernanceLog")
    previous = GENESIS_HASH
    for row in GovernanceLog.objects.order_by("id").iterator(chunk_size=1000):
        digest = row_hash(row, previous_hash=previous)
        GovernanceLog.objects.filter(pk=row.pk).update(previous_hash=previous, entry_hash=digest)
        previous = digest


class Migration(migrations.Migration):
    dependencies = [("governance", "0002_seed_policies")]

    operations = [
        migrations.CreateModel(
            name="SealedBallot",
            fields=[
                ("id", models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                ("sealed", models.BinaryField(editable=False)),
                (
                    "proposal",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="sealed_ballots", to="governance.proposal"
                    ),
                ),
            ],
            options={"ordering": ["id"]},
        ),
        migrations.AddField(
            model_name="governancelog",
            name="previous_hash",
            field=models.CharField(default="", editable=False, max_length=64),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="governancelog",
            name="entry_hash",
            field=models.CharField(default="", editable=False, max_length=64),
            preserve_default=False,
        ),
        migrations.RunPython(chain_existing_entries, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="governancelog",
            constraint=models.UniqueConstraint(fields=("previous_hash",), name="governance_log_chain_does_not_fork"),
        ),
        migrations.RunPython(
            _vendor_sql(postgresql=PG_APPEND_ONLY_SQL, sqlite=SQLITE_APPEND_ONLY_SQL),
            _vendor_sql(postgresql=PG_DROP_SQL, sqlite=SQLITE_DROP_SQL),
        ),
    ]
