"""/api/v1/export and /api/v1/import: job definitions as a versioned document (transfer.py)."""
from __future__ import annotations

from bots_scheduler.transfer import TransferError, export_jobs, import_jobs
from bots_scheduler.access.roles import ADMIN
from bots_scheduler.web.handlers.base import ApiError, ApiHandler

TRUE = ("1", "true", "yes", "on")
FALSE = ("", "0", "false", "no", "off")


class ExportHandler(ApiHandler):
    roles = {"get": ADMIN}

    async def get(self):
        self.reply(await self.blocking(export_jobs, self.application_ctx.scheduler))


class ImportHandler(ApiHandler):
    roles = {"post": ADMIN}

    max_body = 16 * 1024 * 1024

    async def post(self):
        value = (self.get_query_argument("dry_run", "") or "").strip().lower()
        if value not in TRUE + FALSE:
            raise ApiError(400, "dry_run must be true or false")
        document = self.json_body()
        try:
            result = await self.blocking(import_jobs, document, self.application_ctx.scheduler,
                                         self.user, value in TRUE)
        except TransferError as exc:
            raise ApiError(400, str(exc)) from None
        self.reply(result)
