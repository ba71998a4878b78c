"""/healthz: 200 when the datastore answers and the scheduler runs, 503 (with why) otherwise."""
from __future__ import annotations

import json

import tornado.ioloop

from bots_scheduler.datastore.store import DatastoreUnavailable
from bots_scheduler.access.roles import VIEWER
from bots_scheduler.web.handlers.base import ApiHandler

from typing import TYPE_CHECKING

if TYPE_CHECKING:     # the collaborators' types (given in web/server.py's routes)
    from bots_scheduler.datastore.store import Datastore
    from bots_scheduler.scheduling.scheduler import JobScheduler


class HealthHandler(ApiHandler):
    datastore: Datastore
    scheduler: JobScheduler
    roles = {"get": VIEWER}

    async def get(self):
        problems = []
        datastore = "ok"
        try:
            await tornado.ioloop.IOLoop.current().run_in_executor(
                self.settings["worker_pool"], self.datastore.check)
        except DatastoreUnavailable as exc:
            datastore = "unreachable"
            problems.append(str(exc))
        scheduler = "running" if self.scheduler.running else "stopped"
        if scheduler != "running":
            problems.append("the scheduler is not running")
        body = {"status": "ok" if not problems else "unhealthy", "datastore": datastore,
                "scheduler": scheduler}
        if problems:
            body["error"] = "; ".join(problems)
        self.set_status(503 if problems else 200)
        self.finish(json.dumps(body))
