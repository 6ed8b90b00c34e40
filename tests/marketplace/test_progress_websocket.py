"""The client console's live progress WebSocket through the real ASGI stack: own organization only, after commit."""

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator

from config.asgi import application
from marketplace.services import claiming, submission
from tests import factories

pytestmark = pytest.mark.django_db(transaction=True)


def _socket(client, project_id):
    headers = [(b"origin", b"http://testserver"), (b"host", b"testserver")]
    headers.append((b"cookie", f"sessionid={client.cookies['sessionid'].value}".encode()))
    return WebsocketCommunicator(application, f"/ws/client/projects/{project_id}/progress/", headers=headers)


def _submit(project, worker):
    lease = claiming.work_next(worker=worker, project=project).assignment
    submission.assignment_submit(worker=worker, assignment_id=lease.pk, payload={"text": "4821"}, idempotency_key="k")


def test_the_client_hears_each_submitted_answer(client):
    organization = factories.make_organization("Live Co")
    project = factories.make_project(organization, tasks=2)
    worker = factories.make_member()
    client.force_login(factories.make_client_user(organization))

    async def scenario():
        socket = _socket(client, project.pk)
        connected, _ = await socket.connect()
        assert connected
        await database_sync_to_async(_submit)(project, worker)
        assert await socket.receive_json_from(timeout=5) == {"kind": "progress", "project": project.pk}
        await socket.disconnect()

    async_to_sync(scenario)()


def test_adversarial_another_organization_cannot_listen(client):
    project = factories.make_project(factories.make_organization("Watched Co"), tasks=1)
    client.force_login(factories.make_client_user(factories.make_organization("Rival Co")))

    async def scenario():
        socket = _socket(client, project.pk)
        connected, code = await socket.connect()
        assert not connected and code == 4403

    async_to_sync(scenario)()


def test_adversarial_members_cannot_listen_either(client):
    project = factories.make_project(factories.make_organization("Watched Co"), tasks=1)
    client.force_login(factories.make_member())

    async def scenario():
        connected, code = await _socket(client, project.pk).connect()
        assert not connected and code == 4403

    async_to_sync(scenario)()


def test_a_busy_project_sends_one_event_per_interval_and_the_next_after_it(client, monkeypatch):
    """Coalescing: answers within PROGRESS_EVENT_INTERVAL of an event send none (the console's trailing
    refresh shows them); the first answer after it sends the next event."""
    from marketplace.services import progress

    organization = factories.make_organization("Busy Co")
    project = factories.make_project(organization, tasks=3)
    workers = [factories.make_member() for _ in range(3)]
    client.force_login(factories.make_client_user(organization))
    clock = [1000.0]
    monkeypatch.setattr(progress, "_clock", lambda: clock[0])

    async def scenario():
        socket = _socket(client, project.pk)
        assert (await socket.connect())[0]
        await database_sync_to_async(_submit)(project, workers[0])
        assert await socket.receive_json_from(timeout=5) == {"kind": "progress", "project": project.pk}
        clock[0] += progress.PROGRESS_EVENT_INTERVAL / 2
        await database_sync_to_async(_submit)(project, workers[1])
        assert await socket.receive_nothing(timeout=0.3)
        clock[0] += progress.PROGRESS_EVENT_INTERVAL
        await database_sync_to_async(_submit)(project, workers[2])
        assert await socket.receive_json_from(timeout=5) == {"kind": "progress", "project": project.pk}
        await socket.disconnect()

    async_to_sync(scenario)()
