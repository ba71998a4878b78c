"""/api/v1/executions (list, one, run now, stats) and /api/v1/logs."""
from __future__ import annotations

from bots_scheduler.access.roles import OPERATOR, VIEWER
from bots_scheduler.executions.states import NAMES as STATES
from bots_scheduler.executions.stop import ExecutionNotFound
from bots_scheduler.executions.store import LOG_EVENTS
from bots_scheduler.web.handlers.base import ApiError, ApiHandler
from bots_scheduler.web.handlers.findings import ZERO_COUNTS

from typing import TYPE_CHECKING

if TYPE_CHECKING:     # the collaborators' types (given in web/server.py's routes)
    from bots_scheduler.executions.stop import StopRequests
    from bots_scheduler.executions.store import ExecutionStore
    from bots_scheduler.findings.store import FindingStore
    from bots_scheduler.jobs.loader import JobRegistry
    from bots_scheduler.scheduling.scheduler import JobScheduler


class ExecutionsHandler(ApiHandler):
    executions: ExecutionStore
    findings: FindingStore
    registry: JobRegistry
    scheduler: JobScheduler
    stops: StopRequests
    roles = {"get": VIEWER, "post": OPERATOR, "delete": OPERATOR}

    async def get(self, execution_id=None):
        if execution_id:
            execution = await self.blocking(self.executions.get, execution_id)
            hidden = self.registry.disabled_names()
            if execution is None or execution["job"].get("job_class_string") in hidden:
                raise ExecutionNotFound(execution_id)
            counts = await self.blocking(self.findings.run_counts, [execution_id])
            execution["findings"] = counts.get(execution_id, ZERO_COUNTS)
            self.reply(execution)
            return
        start, end = self.time_range()
        limit, offset = self.paging()
        state = self.get_query_argument("state", None) or None
        if state is not None and state not in STATES:
            raise ApiError(400, f"state must be one of {', '.join(STATES)}")
        job_id = self.get_query_argument("job_id", None) or None
        with_result = self.flag("result", default=True)
        rows, total = await self.blocking(self.executions.list_executions, start, end, limit,
                                          offset, self.registry.disabled_names(), job_id, state,
                                          with_result)
        counts = await self.blocking(self.findings.run_counts,
                                     [row["execution_id"] for row in rows]) if rows else {}
        for row in rows:
            row["findings"] = counts.get(row["execution_id"], ZERO_COUNTS)
        self.reply({"executions": rows, "total": total, "limit": limit, "offset": offset,
                    "next_offset": offset + len(rows) if offset + len(rows) < total else None})

    async def post(self, job_id=None):
        if not job_id:
            raise ApiError(405, "run a job with POST /api/v1/executions/{job_id}")
        eid = await self.blocking(self.scheduler.run_now, job_id, self.user)
        self.reply({"execution_id": eid})

    async def delete(self, execution_id=None):
        """Stop a running or queued execution: 200 {"execution_id", "state"}."""
        if not execution_id:
            raise ApiError(405, "stop an execution with DELETE /api/v1/executions/{execution_id}")
        answer = await self.blocking(self.stops.stop, execution_id,
                                     self.user)
        self.reply(answer)


class ExecutionStatsHandler(ApiHandler):
    executions: ExecutionStore
    registry: JobRegistry
    roles = {"get": VIEWER}

    async def get(self):
        start, end = self.time_range()
        stats = await self.blocking(self.executions.stats, start, end,
                                    self.registry.disabled_names())
        self.reply(stats)


class LogsHandler(ApiHandler):
    executions: ExecutionStore
    registry: JobRegistry
    roles = {"get": VIEWER}

    async def get(self):
        start, end = self.time_range()
        limit, offset = self.paging()
        job_id = self.get_query_argument("job_id", None) or None
        filters = {name: (self.get_query_argument(name, "") or "").strip() or None
                   for name in ("user", "event", "job")}
        if filters["event"] and filters["event"] not in LOG_EVENTS:
            raise ApiError(400, f"event must be one of {', '.join(LOG_EVENTS)}")

        rows, total = await self.blocking(self.executions.list_logs, start, end, limit, offset,
                                          self.registry.disabled_names(), job_id, **filters)
        self.reply({"logs": rows, "total": total, "limit": limit, "offset": offset,
                    "next_offset": offset + len(rows) if offset + len(rows) < total else None})
