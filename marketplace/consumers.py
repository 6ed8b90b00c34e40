from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from .services.feed import FEED_GROUP
from .services.progress import progress_group


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


class ProjectProgressConsumer(AsyncJsonWebsocketConsumer):
    """The client console's live progress: users of the project's own organization only."""

    async def connect(self):
        user = self.scope.get("user")
        project_id = self.scope["url_route"]["kwargs"]["pk"]
        if user is None or not user.is_authenticated or not await self._may_watch(user, project_id):
            await self.close(code=4403)
            return
        self.group = progress_group(project_id)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()

    @database_sync_to_async
    def _may_watch(self, user, project_id) -> bool:
        from .models import Project

        return bool(user.is_client) and Project.objects.filter(pk=project_id, organization_id=user.organization_id).exists()

    async def disconnect(self, code):
        if hasattr(self, "group"):
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def progress_event(self, message):
        await self.send_json(message["event"])
