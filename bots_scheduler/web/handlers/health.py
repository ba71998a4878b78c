"""/healthz: 200 when the datastore answers and the scheduler runs, 503 (with why) otherwise."""
from __future__ import annotations

import json

import tornado.ioloop

from bots_scheduler.datastore.store import DatastoreUnavailable
from bots_scheduler.access.roles import VIEWER
from bots_scheduler.web.handlers.base import ApiHandler


class HealthHandler(ApiHandler):
    roles = {"get": VIEWER}

    async def get(self):
        app = self.application_ctx
        problems = []
        datastore = "ok"
        try:
            await tornado.ioloop.IOLoop.current().run_in_executor(
                self.settings["worker_pool"], app.datastore.check)
        except DatastoreUnavailable as exc:
            datastore = "unreachable"
            problems.append(str(exc))
        scheduler = "running" if app.scheduler.running else "stopped"
        if scheduler != "running":
            problems.append("the scheduler is not running")
        body = {"status": "ok" if not problems else "unhealthy", "datastore": datastore,
                "scheduler": scheduler}
        if problems:
            body["error"] = "; ".join(problems)
        self.set_status(503 if problems else 200)
        self.finish(json.dumps(body))
