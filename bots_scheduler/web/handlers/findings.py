"""/api/v1/findings (list, one with its history) and /api/v1/executions/{id}/findings.

Role: viewer (every GET).  Findings of disabled job classes are hidden, like their executions.
"""
from __future__ import annotations

from bots_scheduler.access.roles import VIEWER
from bots_scheduler.findings import CHANGES, SEVERITIES, STATES
from bots_scheduler.jobs.finding import MAX_IDENTITY_CHARS
from bots_scheduler.web.errors import ApiError
from bots_scheduler.web.handlers.base import ApiHandler

from typing import TYPE_CHECKING

if TYPE_CHECKING:     # the collaborators' types (given in web/server.py's routes)
    from bots_scheduler.executions.store import ExecutionStore
    from bots_scheduler.findings.store import FindingStore
    from bots_scheduler.jobs.loader import JobRegistry

DEFAULT_FINDINGS_LIMIT = 100


def _page(rows, total, limit, offset) -> dict:
    return {"total": total, "limit": limit, "offset": offset,
            "next_offset": offset + len(rows) if offset + len(rows) < total else None}


class FindingsHandler(ApiHandler):
    findings: FindingStore
    registry: JobRegistry
    roles = {"get": VIEWER}

    async def get(self, ident=None):
        hidden = self.registry.disabled_names()
        if ident:
            finding = await self.blocking(self.findings.get_finding, ident, hidden)
            if finding is None:
                raise ApiError(404, f"no finding with id {ident!r}")
            self.reply(finding)
            return
        limit, offset = self.paging(DEFAULT_FINDINGS_LIMIT)
        filters = {"job_id": self._text("job_id", 191),
                   "state": self._choice("state", STATES),
                   "kind": self._text("kind", MAX_IDENTITY_CHARS),
                   "severity": self._choice("severity", SEVERITIES),
                   "since": self._time_arg("since")}
        rows, total = await self.blocking(self.findings.list_findings, limit, offset,
                                          hidden_classes=hidden, **filters)
        self.reply({"findings": rows, **_page(rows, total, limit, offset)})

    def _text(self, name: str, longest: int) -> str | None:
        value = self.get_query_argument(name, "") or ""
        if len(value) > longest:
            raise ApiError(400, f"{name} must be at most {longest} characters")
        return value or None

    def _choice(self, name: str, allowed) -> str | None:
        value = (self.get_query_argument(name, "") or "").strip()
        if value and value not in allowed:
            raise ApiError(400, f"{name} must be one of {', '.join(allowed)}, not {value!r:.40}")
        return value or None


class ExecutionFindingsHandler(FindingsHandler):
    executions: ExecutionStore
    async def get(self, execution_id):
        execution = await self.blocking(self.executions.get, execution_id)
        if execution is None or execution["job"].get("job_class_string") in \
                self.registry.disabled_names():
            raise ApiError(404, f"no execution with id {execution_id!r}")
        limit, offset = self.paging(DEFAULT_FINDINGS_LIMIT)
        change = self._choice("change", CHANGES)
        rows, total = await self.blocking(self.findings.execution_findings, execution_id,
                                          change, limit, offset)
        counts = await self.blocking(self.findings.run_counts, [execution_id])
        self.reply({"execution_id": execution_id, "findings": rows,
                    "counts": counts.get(execution_id, ZERO_COUNTS),
                    **_page(rows, total, limit, offset)})


ZERO_COUNTS = {"new": 0, "changed": 0, "unchanged": 0, "gone": 0}
