"""Executions whose process died never stay active: they are marked failed.

An active execution belongs to the process named by its hostname and pid (the scheduler that
created it, then the process that runs it).  It is an orphan when that process is gone: not seen
in the nodes table for a while, or -- on this machine -- no longer running.  An execution queued
in the Celery broker (``scheduled`` with a task id) belongs to the broker instead: it is failed
only when no worker started it within the misfire grace time (plus a minute).
"""
from __future__ import annotations

import logging
from datetime import timedelta

from bots_scheduler.datastore.store import utcnow
from bots_scheduler.executions.lifecycle import Lifecycle
from bots_scheduler.executions.states import ExecutionState

log = logging.getLogger(__name__)

QUEUE_MARGIN = 60.0


class Reaper:
    def __init__(self, lifecycle: Lifecycle, membership, queue_limit: float):
        self.lifecycle = lifecycle
        self.membership = membership
        self.queue_limit = queue_limit + QUEUE_MARGIN

    def reap(self, reason: str | None = None, at_startup: bool = False) -> int:
        """Fail orphaned executions; returns how many.  At start-up this process owns none yet,
        so rows carrying its own hostname and pid are from an earlier process."""
        rows = self.lifecycle.store.active_rows()
        if not rows:
            return 0
        live = self.membership.live_owners()
        oldest_queued = utcnow() - timedelta(seconds=self.queue_limit)
        failed = 0
        for row in rows:
            if row.state == "scheduled" and row.task_id:
                if row.scheduled_time >= oldest_queued:
                    continue
                why = (f"no worker started this run within {self.queue_limit:g} s of its "
                       f"scheduled time (the misfire grace time plus a minute); is a worker "
                       f"running on this broker?")
            elif self.membership.owner_alive(row.hostname or "", row.pid or 0, live,
                                             myself_alive=not at_startup):
                continue
            else:
                why = reason or (f"the process that ran it ({row.hostname} pid {row.pid}) "
                                 f"stopped unexpectedly (crash, kill or lost machine): no sign "
                                 f"of life for a while; marked failed by "
                                 f"{self.membership.name} pid {self.membership.pid}")
            failed += self._fail(row, why)
        return failed

    def _fail(self, row, why: str) -> int:
        # only if nobody moved it on meanwhile (a worker starting it, the run ending)
        moved = self.lifecycle.end(row.eid, ExecutionState.FAILED, "Interrupted", why,
                                   expect=(row.state,), owner=(row.hostname, row.pid))
        if moved:
            log.warning("execution %s marked failed: %s", row.eid, why)
        return int(moved)
