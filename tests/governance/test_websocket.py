"""Live tallies over ws/governance/proposals/<id>/ through the real ASGI stack and channel layer."""

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator

from config.asgi import application
from governance import services
from tests import factories

from .helpers import motion


def _socket(client, proposal_id):
    headers = [(b"origin", b"http://testserver"), (b"host", b"testserver")]
    if client is not None:
        headers.append((b"cookie", f"sessionid={client.cookies['sessionid'].value}".encode()))
    return WebsocketCommunicator(application, f"/ws/governance/proposals/{proposal_id}/", headers=headers)


@pytest.mark.django_db(transaction=True)
def test_visible_results_are_pushed_after_each_vote(client):
    steward = factories.make_steward()
    watcher, voter = factories.make_member(), factories.make_member()
    live = motion(steward, results_hidden=False)
    hidden = motion(steward, title="Hidden one")
    client.force_login(watcher)

    async def scenario():
        socket = _socket(client, live.pk)
        assert (await socket.connect())[0]
        other = _socket(client, hidden.pk)
        assert (await other.connect())[0]
        await database_sync_to_async(services.ballot_cast)(proposal=live, user=voter, choice="yes")
        event = await socket.receive_json_from(timeout=5)
        assert event["kind"] == "tally" and event["result"]["counts"]["yes"] == 1
        assert event["result"]["quorum"]["voted"] == 1
        await database_sync_to_async(services.ballot_cast)(proposal=hidden, user=voter, choice="no")
        event = await other.receive_json_from(timeout=5)
        assert event == {"kind": "turnout", "proposal": hidden.pk}  # hidden results: only that someone voted
        assert await socket.receive_nothing(timeout=0.3)
        await database_sync_to_async(services.proposal_close)(proposal=live, now=live.closes_at)
        assert (await socket.receive_json_from(timeout=5))["kind"] == "closed"
        await socket.disconnect()
        await other.disconnect()

    async_to_sync(scenario)()


@pytest.mark.django_db(transaction=True)
def test_only_members_may_watch(client):
    steward = factories.make_steward()
    proposal = motion(steward)
    client.force_login(factories.make_client_user())

    async def scenario():
        connected, code = await _socket(None, proposal.pk).connect()
        assert not connected and code == 4401
        connected, code = await _socket(client, proposal.pk).connect()
        assert not connected and code == 4403

    async_to_sync(scenario)()
