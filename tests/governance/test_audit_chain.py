"""The governance log: append-only in the database, and a hash chain that audit_verify checks."""

import datetime as dt
import io
import json
import threading

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, IntegrityError, connection, transaction

from coop.errors import ApplicationError
from governance import audit_chain, services
from governance.models import GovernanceLog
from tests import factories
from tests.conftest import requires_postgres

from .helpers import close, motion, vote

pytestmark = pytest.mark.django_db

TABLE = GovernanceLog._meta.db_table


def verify() -> str:
    out = io.StringIO()
    call_command("audit_verify", stdout=out)
    return out.getvalue()


def broken_at() -> str:
    with pytest.raises(CommandError) as excinfo:
        verify()
    return str(excinfo.value)


def some_entries(steward, member) -> list[GovernanceLog]:
    proposal = motion(steward)
    vote(proposal, member, "yes")
    vote(proposal, steward, "no")
    close(proposal)
    services.log_write(actor=steward, action="note", summary="Ünïcode, floats and nesting", data={"x": 1.0, "y": [0.5, {"z": None}]})
    return list(GovernanceLog.objects.order_by("id"))


def without_append_only_trigger():
    """Let raw SQL tamper with the log inside this test's transaction (rolled back afterwards)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # no deferred FK checks pending: ALTER TABLE refuses those
            cursor.execute(f"ALTER TABLE {TABLE} DISABLE TRIGGER governance_governancelog_append_only")
        else:
            cursor.execute("DROP TRIGGER governance_governancelog_no_update")


def raw(sql: str, params=()):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def test_every_entry_is_chained_to_the_one_before(steward, member):
    entries = some_entries(steward, member)
    assert len(entries) >= 6
    assert entries[0].previous_hash == audit_chain.GENESIS_HASH
    for before, after in zip(entries, entries[1:]):
        assert after.previous_hash == before.entry_hash
    for entry in entries:
        assert entry.entry_hash == audit_chain.row_hash(entry, previous_hash=entry.previous_hash)
    assert verify().startswith(f"Governance log chain intact: {len(entries)} entries, head {entries[-1].entry_hash}")


def test_adversarial_the_database_refuses_to_change_log_rows(steward, member):
    entries = some_entries(steward, member)
    with pytest.raises(ApplicationError):
        entries[1].save()
    with pytest.raises((IntegrityError, DatabaseError)), transaction.atomic():
        GovernanceLog.objects.filter(pk=entries[1].pk).update(summary="nothing happened")
    with pytest.raises((IntegrityError, DatabaseError)), transaction.atomic():
        raw(f"UPDATE {TABLE} SET summary = %s WHERE id = %s", ["nothing happened", entries[1].pk])
    if connection.vendor == "postgresql":  # SQLite test flushes delete rows, so only the model refuses there
        with pytest.raises((IntegrityError, DatabaseError)), transaction.atomic():
            GovernanceLog.objects.filter(pk=entries[1].pk).delete()
    assert GovernanceLog.objects.get(pk=entries[1].pk).summary == entries[1].summary
    verify()


def test_adversarial_an_edited_entry_is_named(steward, member):
    entries = some_entries(steward, member)
    without_append_only_trigger()
    target = entries[2]
    raw(f"UPDATE {TABLE} SET summary = %s WHERE id = %s", ["Nobody voted", target.pk])
    message = broken_at()
    assert f"entry {target.pk}:" in message and "content does not match its hash" in message


def test_adversarial_edited_data_json_is_named(steward, member):
    entries = some_entries(steward, member)
    without_append_only_trigger()
    target = entries[-1]
    raw(f"UPDATE {TABLE} SET data = %s WHERE id = %s", [json.dumps({"x": 2, "y": [0.5, {"z": None}]}), target.pk])
    assert f"entry {target.pk}:" in broken_at()


def test_adversarial_a_rewritten_entry_with_a_fresh_hash_breaks_the_next_link(steward, member):
    entries = some_entries(steward, member)
    without_append_only_trigger()
    target, following = entries[2], entries[3]
    forged = audit_chain.entry_hash(
        actor_id=target.actor_id,
        action=target.action,
        object_type=target.object_type,
        object_id=target.object_id,
        summary="Nobody voted",
        data=target.data,
        created_at=target.created_at,
        previous_hash=target.previous_hash,
    )
    raw(f"UPDATE {TABLE} SET summary = %s, entry_hash = %s WHERE id = %s", ["Nobody voted", forged, target.pk])
    message = broken_at()
    assert f"entry {following.pk}:" in message and f"entry {target.pk}" in message and "previous_hash" in message


def test_adversarial_a_removed_entry_is_named_by_its_successor(steward, member):
    entries = some_entries(steward, member)
    without_append_only_trigger()
    raw(f"DELETE FROM {TABLE} WHERE id = %s", [entries[1].pk])
    assert f"entry {entries[2].pk}:" in broken_at()


def test_adversarial_a_backdated_entry_is_named(steward, member):
    entries = some_entries(steward, member)
    without_append_only_trigger()
    GovernanceLog.objects.filter(pk=entries[0].pk).update(created_at=entries[0].created_at - dt.timedelta(days=3))
    assert f"entry {entries[0].pk}:" in broken_at()


def test_adversarial_truncating_the_end_is_caught_against_a_recorded_head(steward, member):
    entries = some_entries(steward, member)
    head = entries[-1].entry_hash
    call_command("audit_verify", head=head, stdout=io.StringIO())
    without_append_only_trigger()
    raw(f"DELETE FROM {TABLE} WHERE id = %s", [entries[-1].pk])
    verify()  # a shorter chain is still a valid chain ...
    with pytest.raises(CommandError) as excinfo:
        call_command("audit_verify", head=head, stdout=io.StringIO())
    assert "no longer in the log" in str(excinfo.value)  # ... but not one that contains the recorded head


def test_adversarial_a_second_entry_cannot_claim_the_same_predecessor(steward, member):
    entries = some_entries(steward, member)
    with pytest.raises(IntegrityError), transaction.atomic():
        GovernanceLog.objects.create(
            action="fork", summary="a fork", previous_hash=entries[-1].previous_hash, entry_hash="f" * 64
        )


def test_exports_carry_the_hashes_and_can_be_checked_without_the_database(client, steward, member):
    entries = some_entries(steward, member)
    client.force_login(member)
    response = client.get("/governance/log/export.jsonl")
    lines = [json.loads(line) for line in b"".join(response.streaming_content).decode().splitlines()]
    by_id = {line["id"]: line for line in lines}
    assert set(by_id) == {e.pk for e in entries}
    for entry in entries:
        line = by_id[entry.pk]
        assert (line["previous_hash"], line["entry_hash"]) == (entry.previous_hash, entry.entry_hash)
        recomputed = audit_chain.entry_hash(
            actor_id=line["actor_id"],
            action=line["action"],
            object_type=line["object_type"],
            object_id=line["object_id"],
            summary=line["summary"],
            data=line["data"],
            created_at=dt.datetime.fromisoformat(line["created_at"]),
            previous_hash=line["previous_hash"],
        )
        assert recomputed == line["entry_hash"]
    rows = b"".join(client.get("/governance/log/export.csv").streaming_content).decode().splitlines()
    assert rows[0].endswith(",previous_hash,entry_hash") and entries[-1].entry_hash in rows[1]


def test_the_log_page_shows_each_entrys_hash(client, steward, member):
    entries = some_entries(steward, member)
    client.force_login(member)
    page = client.get("/governance/log/").content.decode()
    assert f'<code title="{entries[-1].entry_hash}">{entries[-1].entry_hash[:12]}</code>' in page


def test_canonical_json_is_stable():
    assert audit_chain.canonical_json({"b": 1.0, "a": ["é", 2.5, {"c": None}]}) == '{"a":["é",2.5,{"c":null}],"b":1}'


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_keep_one_unbroken_chain():
    actor = factories.make_member()
    threads, per_thread = 8, 12
    start = threading.Barrier(threads)
    errors = []

    def write(n: int):
        try:
            start.wait()
            for i in range(per_thread):
                with transaction.atomic():
                    services.log_write(actor=actor, action="test.concurrent", summary=f"writer {n} entry {i}")
                    GovernanceLog.objects.count()  # more work inside the writer's transaction, lock still held
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            connection.close()

    workers = [threading.Thread(target=write, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert errors == []
    entries = list(GovernanceLog.objects.order_by("id"))
    concurrent = [e for e in entries if e.action == "test.concurrent"]
    assert len(concurrent) == threads * per_thread
    assert len({e.previous_hash for e in entries}) == len(entries)  # no two entries share a predecessor
    assert verify().startswith(f"Governance log chain intact: {len(entries)} entries")
