"""/api/v1/export and /api/v1/import: job definitions as a versioned document (transfer.py)."""
from __future__ import annotations

from bots_scheduler.access.roles import ADMIN
from bots_scheduler.transfer import export_jobs, import_jobs
from bots_scheduler.web.handlers.base import ApiHandler

from typing import TYPE_CHECKING

if TYPE_CHECKING:     # the collaborators' types (given in web/server.py's routes)
    from bots_scheduler.scheduling.scheduler import JobScheduler


class ExportHandler(ApiHandler):
    scheduler: JobScheduler
    roles = {"get": ADMIN}

    async def get(self):
        self.reply(await self.blocking(export_jobs, self.scheduler))


class ImportHandler(ApiHandler):
    scheduler: JobScheduler
    roles = {"post": ADMIN}

    max_body = 16 * 1024 * 1024

    async def post(self):
        dry_run = self.flag("dry_run", default=False)
        document = self.json_body()
        result = await self.blocking(import_jobs, document, self.scheduler,
                                     self.user, dry_run)     # TransferError: 400
        self.reply(result)
