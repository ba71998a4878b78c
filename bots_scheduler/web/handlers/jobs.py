"""/api/v1/jobs: list, add, read, modify, delete, pause (PATCH) and resume (OPTIONS)."""
from __future__ import annotations

from bots_scheduler.access.roles import ADMIN, OPERATOR, VIEWER
from bots_scheduler.web.handlers.base import ApiError, ApiHandler
from bots_scheduler.web.handlers.joblist import SORTS, job_page

from typing import TYPE_CHECKING

if TYPE_CHECKING:     # the collaborators' types (given in web/server.py's routes)
    from bots_scheduler.jobs.loader import JobRegistry
    from bots_scheduler.scheduling.scheduler import JobScheduler


class JobsHandler(ApiHandler):
    scheduler: JobScheduler
    registry: JobRegistry
    roles = {"get": VIEWER, "post": ADMIN, "put": ADMIN, "delete": ADMIN,
             "patch": OPERATOR, "options": OPERATOR}

    async def get(self, job_id=None):
        scheduler = self.scheduler
        if job_id:
            self.reply(await self.blocking(scheduler.get_job, job_id))
            return
        limit, offset = self.paging(default=100000)
        query = (self.get_query_argument("q", "") or "").strip().lower()
        sort = self.get_query_argument("sort", "") or ""
        order = self.get_query_argument("order", "asc") or "asc"
        if sort and sort not in SORTS:
            raise ApiError(400, f"sort must be one of {', '.join(SORTS)}")
        if order not in ("asc", "desc"):
            raise ApiError(400, "order must be asc or desc")
        jobs = await self.blocking(scheduler.list_jobs)
        class_names = {c["job_class_string"]: c["name"]
                       for c in self.registry.describe()}
        page = job_page(jobs, class_names, query, sort, order, limit, offset)
        self.reply({**page, "limit": limit, "offset": offset})

    async def post(self, job_id=None):
        if job_id:
            raise ApiError(405, "POST /api/v1/jobs adds a job; use PUT to modify one")
        body = self.json_body()
        new_id = await self.blocking(self.scheduler.add_job, body, self.user)
        self.reply({"job_id": new_id}, status=201)

    async def put(self, job_id=None):
        self._need_id(job_id)
        body = self.json_body()
        await self.blocking(self.scheduler.modify_job, job_id, body, self.user)
        self.reply({"job_id": job_id})

    async def delete(self, job_id=None):
        self._need_id(job_id)
        await self.blocking(self.scheduler.delete_job, job_id, self.user)
        self.reply({"job_id": job_id})

    async def patch(self, job_id=None):
        self._need_id(job_id)
        await self.blocking(self.scheduler.pause_job, job_id, self.user)
        self.reply({"job_id": job_id})

    async def options(self, job_id=None):
        self._need_id(job_id)
        await self.blocking(self.scheduler.resume_job, job_id, self.user)
        self.reply({"job_id": job_id})

    @staticmethod
    def _need_id(job_id):
        if not job_id:
            raise ApiError(405, "this method needs a job id: /api/v1/jobs/{job_id}")


class JobClassesHandler(ApiHandler):
    registry: JobRegistry
    roles = {"get": VIEWER}

    async def get(self):
        self.reply({"job_classes": self.registry.describe()})
