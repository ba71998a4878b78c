"""/api/v1/cluster: the schedulers sharing this datastore (which one is the leader) and the
Celery workers seen recently."""
from __future__ import annotations

from bots_scheduler.access.roles import VIEWER
from bots_scheduler.web.handlers.base import ApiHandler


class ClusterHandler(ApiHandler):
    roles = {"get": VIEWER}

    async def get(self):
        view = await self.blocking(self.application_ctx.cluster.view)
        self.reply(view)
