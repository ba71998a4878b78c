"""/api/v1/cluster: the schedulers sharing this datastore (which one is the leader) and the
Celery workers seen recently."""
from __future__ import annotations

from bots_scheduler.access.roles import VIEWER
from bots_scheduler.web.handlers.base import ApiHandler

from typing import TYPE_CHECKING

if TYPE_CHECKING:     # the collaborators' types (given in web/server.py's routes)
    from bots_scheduler.cluster.coordinator import Coordinator


class ClusterHandler(ApiHandler):
    cluster: Coordinator
    roles = {"get": VIEWER}

    async def get(self):
        view = await self.blocking(self.cluster.view)
        self.reply(view)
