"""/api/v1/executions (list, one, run now, stats) and /api/v1/logs."""
from __future__ import annotations

from bots_scheduler.access.roles import OPERATOR, VIEWER
from bots_scheduler.executions.states import NAMES as STATES
from bots_scheduler.executions.stop import ExecutionNotFound
from bots_scheduler.executions.store import LOG_EVENTS
from bots_scheduler.web.handlers.base import ApiError, ApiHandler
from bots_scheduler.web.handlers.findings import ZERO_COUNTS


class ExecutionsHandler(ApiHandler):
    roles = {"get": VIEWER, "post": OPERATOR, "delete": OPERATOR}

    async def get(self, execution_id=None):
        app = self.application_ctx
        if execution_id:
            execution = await self.blocking(app.executions.get, execution_id)
            hidden = app.registry.disabled_names()
            if execution is None or execution["job"].get("job_class_string") in hidden:
                raise ExecutionNotFound(execution_id)
            counts = await self.blocking(app.findings.run_counts, [execution_id])
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
        rows, total = await self.blocking(app.executions.list_executions, start, end, limit,
                                          offset, app.registry.disabled_names(), job_id, state,
                                          with_result)
        counts = await self.blocking(app.findings.run_counts,
                                     [row["execution_id"] for row in rows]) if rows else {}
        for row in rows:
            row["findings"] = counts.get(row["execution_id"], ZERO_COUNTS)
        self.reply({"executions": rows, "total": total, "limit": limit, "offset": offset,
                    "next_offset": offset + len(rows) if offset + len(rows) < total else None})

    async def post(self, job_id=None):
        if not job_id:
            raise ApiError(405, "run a job with POST /api/v1/executions/{job_id}")
        app = self.application_ctx
        eid = await self.blocking(app.scheduler.run_now, job_id, self.user)
        self.reply({"execution_id": eid})

    async def delete(self, execution_id=None):
        """Stop a running or queued execution: 200 {"execution_id", "state"}."""
        if not execution_id:
            raise ApiError(405, "stop an execution with DELETE /api/v1/executions/{execution_id}")
        answer = await self.blocking(self.application_ctx.stops.stop, execution_id,
                                     self.user)
        self.reply(answer)


class ExecutionStatsHandler(ApiHandler):
    roles = {"get": VIEWER}

    async def get(self):
        app = self.application_ctx
        start, end = self.time_range()
        stats = await self.blocking(app.executions.stats, start, end,
                                    app.registry.disabled_names())
        self.reply(stats)


class LogsHandler(ApiHandler):
    roles = {"get": VIEWER}

    async def get(self):
        app = self.application_ctx
        start, end = self.time_range()
        limit, offset = self.paging()
        job_id = self.get_query_argument("job_id", None) or None
        filters = {name: (self.get_query_argument(name, "") or "").strip() or None
                   for name in ("user", "event", "job")}
        if filters["event"] and filters["event"] not in LOG_EVENTS:
            raise ApiError(400, f"event must be one of {', '.join(LOG_EVENTS)}")

        rows, total = await self.blocking(app.executions.list_logs, start, end, limit, offset,
                                          app.registry.disabled_names(), job_id, **filters)
        self.reply({"logs": rows, "total": total, "limit": limit, "offset": offset,
                    "next_offset": offset + len(rows) if offset + len(rows) < total else None})
