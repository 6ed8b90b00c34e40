from channels.generic.websocket import AsyncJsonWebsocketConsumer

from .services.feed import FEED_GROUP


class FeedConsumer(AsyncJsonWebsocketConsumer):
    """Members' task feed: forwards project published/paused/completed events."""

    async def connect(self):
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=4401)
            return
        await self.channel_layer.group_add(FEED_GROUP, self.channel_name)
        await self.accept()

    async def disconnect(self, code):
        await self.channel_layer.group_discard(FEED_GROUP, self.channel_name)

    async def feed_event(self, message):
        await self.send_json(message["event"])
