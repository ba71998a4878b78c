"""/metrics: the Prometheus text format of this server's own registry
(bots_scheduler/metrics.py)."""
from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST

from bots_scheduler.access.roles import VIEWER
from bots_scheduler.web.handlers.base import ApiHandler

from typing import TYPE_CHECKING

if TYPE_CHECKING:     # the collaborators' types (given in web/server.py's routes)
    from bots_scheduler.metrics import Metrics


class MetricsHandler(ApiHandler):
    metrics: Metrics
    roles = {"get": VIEWER}

    async def get(self):
        body = await self.blocking(self.metrics.exposition)
        self.set_header("Content-Type", CONTENT_TYPE_LATEST)
        self.finish(body)
