"""WebSocket consumer: forwards the events governance services publish for one proposal."""

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from .services.notify import proposal_group


@database_sync_to_async
def _may_watch(user, proposal_id: int) -> bool:
    from .models import Proposal

    return bool(getattr(user, "is_member", False)) and Proposal.objects.filter(pk=proposal_id).exists()


class ProposalConsumer(AsyncJsonWebsocketConsumer):
    """ws/governance/proposals/<id>/: live tallies (when results are visible), turnout and the close, for members."""

    async def connect(self):
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=4401)
            return
        proposal_id = int(self.scope["url_route"]["kwargs"]["proposal_id"])
        if not await _may_watch(user, proposal_id):
            await self.close(code=4403)
            return
        self.group = proposal_group(proposal_id)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()

    async def disconnect(self, code):
        if hasattr(self, "group"):
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def governance_event(self, message):
        await self.send_json(message["event"])
