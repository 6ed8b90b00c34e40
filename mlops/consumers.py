from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from .services.training import run_group


class TrainingRunConsumer(AsyncJsonWebsocketConsumer):
    """Live progress of one training run for members and stewards: forwards the events the training service publishes."""

    async def connect(self):
        user = self.scope.get("user")
        if user is None or not user.is_authenticated or not await database_sync_to_async(lambda: user.is_member)():
            await self.close(code=4403)
            return
        self.group = run_group(int(self.scope["url_route"]["kwargs"]["run_id"]))
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()

    async def disconnect(self, code):
        if hasattr(self, "group"):
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def run_event(self, message):
        await self.send_json(message["event"])
