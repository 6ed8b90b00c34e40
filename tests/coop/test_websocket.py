"""The per-user notifications WebSocket through the real ASGI stack (session auth, origin check, channel layer)."""


import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator

from config.asgi import application
from coop.services import notification_send
from tests import factories


def _socket(client=None, origin=b"http://testserver"):
    headers = [(b"origin", origin), (b"host", b"testserver")]
    if client is not None:
        headers.append((b"cookie", f"sessionid={client.cookies['sessionid'].value}".encode()))
    return WebsocketCommunicator(application, "/ws/notifications/", headers=headers)


@pytest.mark.django_db(transaction=True)
def test_user_receives_own_notifications_live(client):
    member = factories.make_member()
    other = factories.make_member()
    client.force_login(member)

    async def scenario():
        socket = _socket(client)
        connected, _ = await socket.connect()
        assert connected
        assert (await socket.receive_json_from())["kind"] == "hello"
        await database_sync_to_async(notification_send)(user=other, kind="t", title="Not for you")
        await database_sync_to_async(notification_send)(user=member, kind="ballot.opened", title="Vote on the pay floor")
        event = await socket.receive_json_from(timeout=5)
        assert event["kind"] == "notification" and event["title"] == "Vote on the pay floor"
        assert await socket.receive_nothing(timeout=0.3)
        await socket.send_json_to({"kind": "ping"})
        assert (await socket.receive_json_from())["kind"] == "pong"
        await socket.disconnect()

    async_to_sync(scenario)()


@pytest.mark.django_db(transaction=True)
def test_notification_is_published_only_after_commit(client):
    member = factories.make_member()
    client.force_login(member)

    async def scenario():
        socket = _socket(client)
        await socket.connect()
        await socket.receive_json_from()

        def rolled_back():
            from django.db import transaction

            try:
                with transaction.atomic():
                    notification_send(user=member, kind="t", title="Never happened")
                    raise RuntimeError("abort")
            except RuntimeError:
                pass

        await database_sync_to_async(rolled_back)()
        assert await socket.receive_nothing(timeout=0.3)
        await socket.disconnect()

    async_to_sync(scenario)()


@pytest.mark.django_db(transaction=True)
def test_anonymous_and_foreign_origin_sockets_are_refused(client):
    member = factories.make_member()
    client.force_login(member)

    async def scenario():
        anonymous = _socket()
        connected, code = await anonymous.connect()
        assert not connected and code == 4401
        foreign = _socket(client, origin=b"http://evil.example")
        connected, _ = await foreign.connect()
        assert not connected

    async_to_sync(scenario)()
