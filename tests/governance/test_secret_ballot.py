"""Secret ballots: who voted and what was voted cannot be linked, by any column, key, row order or transaction id.

While a ballot is open the choices are sealed (encrypted, padded); at close
they are shuffled into SecretBallot in one batch. The linkage test casts 50
votes and compares every voter order it can find (participation id, physical
row order, transaction ids, the governance log) with every ballot order
(key, physical row order, transaction ids, unordered scans). The number of
positions at which an ordering pairs a voter with their own choice is compared
with its exact distribution under a random shuffle: any ordering that does
better than a 1e-9 tail (family-wise far below 1e-6) fails the test.
"""

import itertools
import random
import uuid
from collections import Counter
from fractions import Fraction
from math import comb, factorial

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.core.cache import cache
from django.db import connection, models
from django.test import override_settings

from coop.errors import ApplicationError
from coop.models import Notification
from governance import services
from governance.models import GovernanceLog, Participation, Proposal, SealedBallot, SecretBallot
from governance.services import secret_ballots
from governance.services.notify import proposal_group
from tests import factories

from .helpers import close, make_members, motion, vote

pytestmark = pytest.mark.django_db

ALPHA = Fraction(1, 10**9)  # per ordering; ~100 orderings are compared, so a false alarm is below 1e-7 per run


def _columns(model) -> dict[str, str]:
    with connection.cursor() as cursor:
        described = connection.introspection.get_table_description(cursor, model._meta.db_table)
    return {column.name: column for column in described}


def test_the_tables_share_nothing_but_the_proposal():
    assert set(_columns(SecretBallot)) == {"id", "proposal_id", "choice", "score", "ranking", "reason"}
    assert set(_columns(SealedBallot)) == {"id", "proposal_id", "sealed"}
    assert set(_columns(Participation)) == {"id", "proposal_id", "membership_id"}
    # No voter, no time, no sequence on a ballot: its key is a random UUID, not a counter that follows the vote order.
    for model in (SecretBallot, SealedBallot):
        assert isinstance(model._meta.pk, models.UUIDField) and model._meta.pk.default is uuid.uuid4
        for field in model._meta.get_fields():
            assert not isinstance(field, (models.DateTimeField, models.DateField, models.AutoField, models.BigAutoField)), field
            assert getattr(field, "related_model", None) in (None, Proposal), field


def test_ballots_are_sealed_while_open_and_shuffled_in_at_close(steward):
    members = make_members(7)
    proposal = motion(steward, secret=True)
    order = ["yes", "no", "yes", "abstain", "no", "yes", "yes"]
    for member, choice in zip(members, order):
        vote(proposal, member, choice)
    participations = list(
        Participation.objects.filter(proposal=proposal).order_by("id").values_list("membership__user_id", flat=True)
    )
    assert participations == [m.pk for m in members]  # participation order is known ...
    # ... but while open nothing readable says what anyone voted: no ballot in the clear, sealed ones all alike.
    assert not SecretBallot.objects.filter(proposal=proposal).exists()
    sealed = [bytes(s) for s in SealedBallot.objects.filter(proposal=proposal).values_list("sealed", flat=True)]
    assert len(sealed) == 7 and len({len(s) for s in sealed}) == 1
    assert not any(b'"choice"' in s or b"abstain" in s for s in sealed)
    assert {key.version for key in SealedBallot.objects.values_list("pk", flat=True)} == {4}
    # The log records that each member voted, never what.
    entries = GovernanceLog.objects.filter(action="vote.cast", object_id=str(proposal.pk))
    assert entries.count() == 7
    for entry in entries:
        assert entry.data == {"secret": True}
        assert not any(choice in entry.summary for choice in ("yes", "no", "abstain"))
    closed = close(proposal)
    assert closed.result["counts"] == {"yes": 4, "no": 2, "abstain": 1, "block": 0}
    assert not SealedBallot.objects.filter(proposal=proposal).exists()
    ballots = list(SecretBallot.objects.filter(proposal=proposal).values_list("choice", flat=True))
    assert sorted(ballots) == sorted(order)
    assert {key.version for key in SecretBallot.objects.values_list("pk", flat=True)} == {4}
    # Joining on the only shared column pairs every voter with every ballot: 7 x 7 rows, no information.
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT COUNT(*) FROM {Participation._meta.db_table} p JOIN {SecretBallot._meta.db_table} b "
            "ON b.proposal_id = p.proposal_id WHERE p.proposal_id = %s",
            [proposal.pk],
        )
        assert cursor.fetchone()[0] == 49


def test_score_and_ranked_secret_ballots_survive_sealing(steward):
    members = make_members(3)
    pay = services.proposal_create(
        actor=steward, kind="pay_floor_change", title="Pay floor", score_min="15", score_max="40", secret=True
    )
    for member, score in zip(members, ["21.50", "30", "18.25"]):
        vote(pay, member, score=score)
    assert str(close(pay).result["value"]) == "21.50"
    board = services.proposal_create(
        actor=steward,
        kind="steward_election",
        title="Board",
        candidates=[members[0].membership, members[1].membership],
        secret=True,
    )
    first, second = [c["key"] for c in board.choices]
    vote(board, members[0], ranking=[second, first])
    vote(board, members[1], ranking=[second])
    vote(board, members[2], "abstain")
    assert close(board).result["elected"] == [second]
    assert sorted(SecretBallot.objects.filter(proposal=board).values_list("choice", flat=True)) == [
        "abstain",
        "ranking",
        "ranking",
    ]


def test_sealed_ballots_all_have_one_size_and_authenticate():
    ballots = [
        {"choice": "yes", "score": None, "ranking": [], "reason": ""},
        {"choice": "abstain", "score": None, "ranking": [], "reason": ""},
        {"choice": "block", "score": None, "ranking": [], "reason": "We need a safer process for the night shift."},
        {"choice": "score", "score": "23.50", "ranking": [], "reason": ""},
        {"choice": "ranking", "score": None, "ranking": ["a", "b", "c", "d"], "reason": ""},
    ]
    sealed = [secret_ballots.seal(proposal_id=7, ballot=b) for b in ballots]
    assert len({len(s) for s in sealed}) == 1
    assert len({s[1:17] for s in sealed}) == len(sealed)  # fresh nonces
    assert [secret_ballots.unseal(proposal_id=7, sealed=s) for s in sealed] == ballots
    same_twice = secret_ballots.seal(proposal_id=7, ballot=ballots[0])
    assert same_twice != sealed[0]  # equal choices do not give equal rows


def test_adversarial_a_sealed_ballot_moved_or_altered_does_not_open():
    sealed = secret_ballots.seal(proposal_id=7, ballot={"choice": "no", "score": None, "ranking": [], "reason": ""})
    flipped = bytearray(sealed)
    flipped[40] ^= 1
    for proposal_id, blob in ((8, sealed), (7, bytes(flipped)), (7, sealed[:-1]), (7, b"")):
        with pytest.raises(ApplicationError) as excinfo:
            secret_ballots.unseal(proposal_id=proposal_id, sealed=blob)
        assert excinfo.value.code == "sealed_ballot_unreadable"


def test_ballots_sealed_before_a_key_rotation_still_open_with_the_old_key_as_fallback(settings):
    ballot = {"choice": "yes", "score": None, "ranking": [], "reason": ""}
    sealed = secret_ballots.seal(proposal_id=3, ballot=ballot)
    old = settings.SECRET_KEY
    with override_settings(SECRET_KEY="rotated-" + old, SECRET_KEY_FALLBACKS=[old]):
        assert secret_ballots.unseal(proposal_id=3, sealed=sealed) == ballot
    with override_settings(SECRET_KEY="rotated-" + old, SECRET_KEY_FALLBACKS=[]):
        with pytest.raises(ApplicationError):
            secret_ballots.unseal(proposal_id=3, sealed=sealed)


def test_a_close_that_cannot_open_a_ballot_counts_nothing_and_leaves_the_vote_open(steward, member, settings):
    proposal = motion(steward, secret=True)
    vote(proposal, member, "yes")
    with override_settings(SECRET_KEY="lost-" + settings.SECRET_KEY, SECRET_KEY_FALLBACKS=[]):
        with pytest.raises(ApplicationError) as excinfo:
            close(proposal)
    assert excinfo.value.code == "sealed_ballot_unreadable"
    proposal.refresh_from_db()
    assert proposal.status == "open"
    assert SealedBallot.objects.filter(proposal=proposal).count() == 1 and not SecretBallot.objects.exists()
    assert close(proposal).result["counts"]["yes"] == 1


def test_withdrawing_a_secret_ballot_leaves_nothing_sealed(steward, member):
    proposal = motion(steward, secret=True)
    vote(proposal, member, "no")
    services.proposal_withdraw(actor=steward, proposal=proposal, reason="Put to the wrong electorate.")
    assert not SealedBallot.objects.filter(proposal=proposal).exists()
    assert list(SecretBallot.objects.filter(proposal=proposal).values_list("choice", flat=True)) == ["no"]


def test_secret_ballot_pages_and_api_never_show_choices_by_name(client, steward):
    members = make_members(2)
    proposal = motion(steward, secret=True)
    vote(proposal, members[0], "no", reason="")
    vote(proposal, members[1], "yes")
    close(proposal)
    client.force_login(members[0])
    page = client.get(f"/governance/proposals/{proposal.pk}/").content.decode()
    assert "Votes by name" not in page and members[1].display_name not in page
    body = client.get(f"/api/v1/proposals/{proposal.pk}/").json()
    assert body["my_vote"] is None and body["has_voted"] is True
    assert body["results"]["counts"]["yes"] == 1


def _cache_keys() -> set:
    backend = cache._cache
    if hasattr(backend, "get_client"):  # Redis, shared with the channel layer: only the cache's own keys
        prefix = cache.make_key("")
        return set(backend.get_client().keys(f"{prefix}*"))
    return set(backend.keys())  # local memory


def test_adversarial_live_events_notifications_and_cache_carry_no_choice(steward, django_capture_on_commit_callbacks):
    members = make_members(2)
    proposal = motion(steward, secret=True)
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(proposal_group(proposal.pk), channel)
    notifications, keys = Notification.objects.count(), _cache_keys()
    for member, choice in zip(members, ["no", "yes"]):
        with django_capture_on_commit_callbacks(execute=True):
            vote(proposal, member, choice)
    events = [async_to_sync(layer.receive)(channel)["event"] for _ in members]
    assert events == [{"kind": "turnout", "proposal": proposal.pk}] * 2  # that someone voted, never what
    assert Notification.objects.count() == notifications
    assert _cache_keys() == keys


def test_history_rows_cannot_be_edited_or_deleted(steward, member):
    proposal = motion(steward, secret=True)
    vote(proposal, member, "yes")
    close(proposal)
    for row in (SecretBallot.objects.get(), Participation.objects.get(), GovernanceLog.objects.first()):
        with pytest.raises(ApplicationError) as excinfo:
            row.save()
        assert excinfo.value.code == "append_only"
        with pytest.raises(ApplicationError):
            row.delete()
    assert SecretBallot.objects.get().choice == "yes"


# --- Linkage: 50 voters, every ordering we can find -------------------------------------------------


def _polymul(a: list[int], b: list[int]) -> list[int]:
    out = [0] * (len(a) + len(b) - 1)
    for i, x in enumerate(a):
        for j, y in enumerate(b):
            out[i + j] += x * y
    return out


def match_tail(truth: list[str]) -> list[Fraction]:
    """tail[t] = P(at least t positions match) when the ballots (the multiset of `truth`) are shuffled uniformly.

    Exact: the "hit" board is a disjoint union of full n_k x n_k blocks (one per choice), so its rook polynomial
    is the product of theirs; inclusion-exclusion gives the number of permutations with exactly e hits.
    """
    n = len(truth)
    rook = [1]
    for k in Counter(truth).values():
        rook = _polymul(rook, [comb(k, j) ** 2 * factorial(j) for j in range(k + 1)])
    exactly = [sum((-1) ** (m - e) * comb(m, e) * rook[m] * factorial(n - m) for m in range(e, n + 1)) for e in range(n + 1)]
    assert sum(exactly) == factorial(n) and min(exactly) >= 0
    return [Fraction(sum(exactly[t:]), factorial(n)) for t in range(n + 2)]


def test_match_tail_is_exact_on_small_cases():
    truth = ["yes", "yes", "no", "abstain", "no", "yes"]
    counts = Counter(sum(a == b for a, b in zip(truth, perm)) for perm in itertools.permutations(truth))
    total = factorial(len(truth))
    tail = match_tail(truth)
    for t in range(len(truth) + 2):
        assert tail[t] == Fraction(sum(c for m, c in counts.items() if m >= t), total)


def _column(sql: str, params) -> list:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [row[0] for row in cursor.fetchall()]


def _voter_orders(proposal) -> dict[str, list[int]]:
    """Sequences of membership ids, in every order an operator could read them."""
    table, pid = Participation._meta.db_table, proposal.pk
    orders = {
        "participation id": _column(f"SELECT membership_id FROM {table} WHERE proposal_id = %s ORDER BY id", [pid]),
        "membership id": sorted(_column(f"SELECT membership_id FROM {table} WHERE proposal_id = %s", [pid])),
        "participation scan": _column(f"SELECT membership_id FROM {table} WHERE proposal_id = %s", [pid]),
    }
    log = GovernanceLog.objects.filter(action="vote.cast", object_id=str(pid)).select_related("actor__membership")
    orders["log id"] = [e.actor.membership.pk for e in log.order_by("id")]
    orders["log time"] = [e.actor.membership.pk for e in log.order_by("created_at", "id")]
    if connection.vendor == "postgresql":
        orders["participation ctid"] = _column(f"SELECT membership_id FROM {table} WHERE proposal_id = %s ORDER BY ctid", [pid])
        orders["participation xmin"] = _column(
            f"SELECT membership_id FROM {table} WHERE proposal_id = %s ORDER BY xmin::text::bigint, ctid", [pid]
        )
    else:
        orders["participation rowid"] = _column(f"SELECT membership_id FROM {table} WHERE proposal_id = %s ORDER BY rowid", [pid])
    return orders


def _ballot_orders(proposal) -> dict[str, list[str]]:
    table, pid = SecretBallot._meta.db_table, proposal.pk
    orders = {
        "ballot key": _column(f"SELECT choice FROM {table} WHERE proposal_id = %s ORDER BY id", [pid]),
        "ballot key as text": _column(f"SELECT choice FROM {table} WHERE proposal_id = %s ORDER BY CAST(id AS TEXT)", [pid]),
        "ballot scan": _column(f"SELECT choice FROM {table} WHERE proposal_id = %s", [pid]),
        "ballot ORM default": list(SecretBallot.objects.filter(proposal=proposal).values_list("choice", flat=True)),
    }
    if connection.vendor == "postgresql":
        orders["ballot ctid"] = _column(f"SELECT choice FROM {table} WHERE proposal_id = %s ORDER BY ctid", [pid])
        orders["ballot xmin"] = _column(f"SELECT choice FROM {table} WHERE proposal_id = %s ORDER BY xmin::text::bigint, ctid", [pid])
    else:
        orders["ballot rowid"] = _column(f"SELECT choice FROM {table} WHERE proposal_id = %s ORDER BY rowid", [pid])
    for name in list(orders):
        orders[f"{name} reversed"] = orders[name][::-1]
    return orders


def _best_linkage(voter_orders, ballot_orders, truth: dict[int, str]) -> tuple[int, str]:
    best = (-1, "")
    for (voter_name, voters), (ballot_name, choices) in itertools.product(voter_orders.items(), ballot_orders.items()):
        assert len(voters) == len(choices) == len(truth), (voter_name, ballot_name)
        hits = sum(truth[v] == c for v, c in zip(voters, choices))
        best = max(best, (hits, f"{voter_name} x {ballot_name}"))
    return best


@pytest.mark.django_db(transaction=True)  # real transactions: transaction ids as in production
def test_adversarial_no_join_or_ordering_links_50_voters_to_their_choices():
    steward = factories.make_steward()
    voters = make_members(50)
    proposal = motion(steward, secret=True, quorum_pct=10)
    rng = random.Random(20261201)
    cast = {}
    for user in voters:
        choice = rng.choice(["yes", "no", "abstain"])
        vote(proposal, user, choice)
        cast[user.membership.pk] = choice
    tail = match_tail(list(cast.values()))
    voter_orders = _voter_orders(proposal)

    # While open the only ballot rows are sealed. Their row order does follow the voters (they are written in the
    # voters' transactions): that is why they are sealed. With the key the detector sees it at once, which shows
    # the detector works; without it the rows are all the same size and say nothing.
    sealed_table = SealedBallot._meta.db_table
    physical = "ctid" if connection.vendor == "postgresql" else "rowid"
    sealed = _column(f"SELECT sealed FROM {sealed_table} WHERE proposal_id = %s ORDER BY {physical}", [proposal.pk])
    assert len({len(bytes(s)) for s in sealed}) == 1
    opened = [secret_ballots.unseal(proposal_id=proposal.pk, sealed=s)["choice"] for s in sealed]
    hits, how = _best_linkage(voter_orders, {"sealed, opened with the key": opened}, cast)
    assert hits == 50 and tail[hits] < ALPHA, how
    assert not SecretBallot.objects.filter(proposal=proposal).exists()

    closed = close(proposal)
    counts = Counter(cast.values())
    assert closed.result["counts"] == {"yes": counts["yes"], "no": counts["no"], "abstain": counts["abstain"], "block": 0}
    assert not SealedBallot.objects.exists()
    ballot_orders = _ballot_orders(proposal)
    hits, how = _best_linkage(voter_orders, ballot_orders, cast)
    assert tail[hits] >= ALPHA, f"{how} pairs {hits} of 50 voters with their own choice (chance: p = {float(tail[hits]):.2e})"

    if connection.vendor == "postgresql":
        xmin = "SELECT DISTINCT xmin::text FROM {} WHERE proposal_id = %s"
        ballot_xids = set(_column(xmin.format(SecretBallot._meta.db_table), [proposal.pk]))
        voter_xids = set(_column(xmin.format(Participation._meta.db_table), [proposal.pk]))
        assert len(ballot_xids) == 1 and not ballot_xids & voter_xids  # all written by the close, none by a voter
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT COUNT(*) FROM {Participation._meta.db_table} p JOIN {SecretBallot._meta.db_table} b "
                "ON b.xmin = p.xmin WHERE p.proposal_id = %s",
                [proposal.pk],
            )
            assert cursor.fetchone()[0] == 0


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite only: PostgreSQL keeps dead rows until VACUUM")
def test_sqlite_overwrites_the_sealed_ballots_it_deletes_at_close(steward, member):
    proposal = motion(steward, secret=True)
    vote(proposal, member, "yes")
    fragment = bytes(SealedBallot.objects.get(proposal=proposal).sealed)[100:164]
    assert fragment in connection.connection.serialize()  # the test can see a ballot's bytes in the file ...
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA secure_delete = OFF")  # as SQLite builds without SQLITE_SECURE_DELETE start
    close(proposal)
    assert fragment not in connection.connection.serialize()  # ... and none are left behind after the close
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA secure_delete")
        assert cursor.fetchone()[0] == 0  # the connection's own setting is restored
