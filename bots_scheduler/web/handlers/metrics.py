"""/metrics: the Prometheus text format of this server's own registry
(bots_scheduler/metrics.py)."""
from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST

from bots_scheduler.access.roles import VIEWER
from bots_scheduler.web.handlers.base import ApiHandler


class MetricsHandler(ApiHandler):
    roles = {"get": VIEWER}

    async def get(self):
        body = await self.blocking(self.application_ctx.metrics.exposition)
        self.set_header("Content-Type", CONTENT_TYPE_LATEST)
        self.finish(body)
