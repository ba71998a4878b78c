"""/api/v1/secrets (CONTRACT §7): names, times and the jobs that use each secret; never a value.

Reading the names is for every role; storing, replacing and deleting are the admin's.
"""
from __future__ import annotations

import logging

from bots_scheduler.datastore.store import to_iso
from bots_scheduler.secrets.arguments import jobs_using
from bots_scheduler.secrets.store import SecretInUse, check_name
from bots_scheduler.access.roles import ADMIN, VIEWER
from bots_scheduler.web.handlers.base import ApiError, ApiHandler

from typing import TYPE_CHECKING

if TYPE_CHECKING:     # the collaborators' types (given in web/server.py's routes)
    from bots_scheduler.scheduling.scheduler import JobScheduler
    from bots_scheduler.secrets.store import SecretStore

log = logging.getLogger(__name__)
_TRUE = ("1", "true", "yes", "on")
_FALSE = ("", "0", "false", "no", "off")


class SecretsHandler(ApiHandler):
    scheduler: JobScheduler
    secrets: SecretStore
    roles = {"get": VIEWER, "post": ADMIN, "put": ADMIN, "delete": ADMIN}
    max_body = 128 * 1024

    async def get(self, name=None):
        if name is not None:
            raise ApiError(405, "GET /api/v1/secrets lists the secrets; a value is never shown")

        def listing():
            used = jobs_using(self.scheduler.list_jobs())
            return [{"name": info.name, "created_time": to_iso(info.created_time),
                     "updated_time": to_iso(info.updated_time), "updated_by": info.updated_by,
                     "used_by": sorted(used.get(info.name, []))}
                    for info in self.secrets.list()]
        self.reply({"secrets": await self.blocking(listing)})

    async def post(self, name=None):
        if name is not None:
            raise ApiError(405, "POST /api/v1/secrets stores a new secret; PUT replaces one")
        body = self.json_body()
        name = check_name(body.get("name"))
        await self.blocking(self.secrets.create, name, body.get("value"),
                            self.user)
        log.info("secret %s stored by %s", name, self.user)
        self.reply({"name": name}, status=201)

    async def put(self, name=None):
        name = self._need_name(name)
        body = self.json_body()
        await self.blocking(self.secrets.replace, name, body.get("value"),
                            self.user)
        log.info("secret %s replaced by %s", name, self.user)
        self.reply({"name": name})

    async def delete(self, name=None):
        name = self._need_name(name)
        force = (self.get_query_argument("force", "") or "").strip().lower()
        if force not in _TRUE + _FALSE:
            raise ApiError(400, "force must be 1 or 0")

        def delete():
            users = jobs_using(self.scheduler.list_jobs()).get(name, [])
            if users and force not in _TRUE:
                raise SecretInUse(f"secret {name!r} is used by job(s) {', '.join(sorted(users))}"
                                  f"; change them first, or delete with ?force=1 (their runs "
                                  f"will then fail)")
            self.secrets.delete(name)
        await self.blocking(delete)
        log.info("secret %s deleted by %s", name, self.user)
        self.reply({"name": name})

    @staticmethod
    def _need_name(name) -> str:
        if not name:
            raise ApiError(405, "this method needs a secret name: /api/v1/secrets/{name}")
        return check_name(name)
