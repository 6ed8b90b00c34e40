"""Secret ballots: who voted and what was voted are stored apart and cannot be joined."""

import uuid

import pytest
from django.db import connection, models

from governance.models import GovernanceLog, Participation, SecretBallot

from .helpers import close, make_members, motion, vote

pytestmark = pytest.mark.django_db


def _columns(model) -> dict[str, str]:
    with connection.cursor() as cursor:
        described = connection.introspection.get_table_description(cursor, model._meta.db_table)
    return {column.name: column for column in described}


def test_the_two_tables_share_nothing_but_the_proposal():
    ballot_columns = set(_columns(SecretBallot))
    participation_columns = set(_columns(Participation))
    assert ballot_columns == {"id", "proposal_id", "choice", "score", "ranking", "reason"}
    assert participation_columns == {"id", "proposal_id", "membership_id"}
    # No voter, no time, no sequence on a ballot: its key is a random UUID, not a counter that follows the vote order.
    assert isinstance(SecretBallot._meta.pk, models.UUIDField) and SecretBallot._meta.pk.default is uuid.uuid4
    for field in SecretBallot._meta.get_fields():
        assert not isinstance(field, (models.DateTimeField, models.DateField, models.AutoField, models.BigAutoField)), field
        assert getattr(field, "related_model", None) in (None, SecretBallot._meta.get_field("proposal").related_model), field


def test_ballots_cannot_be_joined_to_voters(steward):
    members = make_members(7)
    proposal = motion(steward, secret=True)
    order = ["yes", "no", "yes", "abstain", "no", "yes", "yes"]
    for member, choice in zip(members, order):
        vote(proposal, member, choice)
    participations = list(
        Participation.objects.filter(proposal=proposal).order_by("id").values_list("membership__user_id", flat=True)
    )
    assert participations == [m.pk for m in members]  # participation order is known ...
    ballots = list(SecretBallot.objects.filter(proposal=proposal).order_by("id").values_list("choice", flat=True))
    assert sorted(ballots) == sorted(order)
    # ... but ballots carry nothing that orders them in time: a random UUID key, no timestamps, no sequence.
    from django.db import models as dj_models

    assert isinstance(SecretBallot._meta.pk, dj_models.UUIDField)
    assert not [f.name for f in SecretBallot._meta.concrete_fields if isinstance(f, (dj_models.DateTimeField, dj_models.AutoField))]
    keys = list(SecretBallot.objects.filter(proposal=proposal).values_list("pk", flat=True))
    assert len({key.version for key in keys}) == 1 and keys[0].version == 4  # random, not time-based (uuid1)
    # Joining on the only shared column pairs every voter with every ballot: 7 x 7 rows, no information.
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT COUNT(*) FROM {Participation._meta.db_table} p JOIN {SecretBallot._meta.db_table} b ON b.proposal_id = p.proposal_id "
            "WHERE p.proposal_id = %s",
            [proposal.pk],
        )
        assert cursor.fetchone()[0] == 49
    # The log records that each member voted, never what.
    entries = GovernanceLog.objects.filter(action="vote.cast", object_id=str(proposal.pk))
    assert entries.count() == 7
    for entry in entries:
        assert entry.data == {"secret": True}
        assert not any(choice in entry.summary for choice in ("yes", "no", "abstain"))
    closed = close(proposal)
    assert closed.result["counts"] == {"yes": 4, "no": 2, "abstain": 1, "block": 0}


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


def test_history_rows_cannot_be_edited_or_deleted(steward, member):
    from coop.errors import ApplicationError

    proposal = motion(steward, secret=True)
    vote(proposal, member, "yes")
    for row in (SecretBallot.objects.get(), Participation.objects.get(), GovernanceLog.objects.first()):
        with pytest.raises(ApplicationError) as excinfo:
            row.save()
        assert excinfo.value.code == "append_only"
        with pytest.raises(ApplicationError):
            row.delete()
    assert SecretBallot.objects.get().choice == "yes"
