"""WebSocket consumers only forward events that services published."""

from channels.generic.websocket import AsyncJsonWebsocketConsumer

from .services.notifications import user_group


class NotificationsConsumer(AsyncJsonWebsocketConsumer):
    """One socket per open portal page; joins the user's group and forwards every event."""

    async def connect(self):
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=4401)
            return
        self.group = user_group(user.pk)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()
        await self.send_json({"kind": "hello", "user": user.pk})

    async def disconnect(self, code):
        if hasattr(self, "group"):
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive_json(self, content, **kwargs):
        if content.get("kind") == "ping":
            await self.send_json({"kind": "pong"})

    async def notify(self, message):
        await self.send_json(message["event"])
