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

from sqlalchemy import select, update

from bots_scheduler.datastore.store import ACTIVE_STATES, utcnow
from bots_scheduler.jobs.report import Section, Text, render_report

log = logging.getLogger(__name__)

QUEUE_MARGIN = 60.0


class Reaper:
    def __init__(self, datastore, membership, queue_limit: float):
        self.datastore = datastore
        self.membership = membership
        self.queue_limit = queue_limit + QUEUE_MARGIN

    def reap(self, reason: str | None = None, at_startup: bool = False) -> int:
        """Fail orphaned executions; returns how many.  At start-up this process owns none yet,
        so rows carrying its own hostname and pid are from an earlier process."""
        table = self.datastore.tables.executions
        with self.datastore.engine.connect() as conn:
            rows = conn.execute(select(table.c.eid, table.c.state, table.c.hostname,
                                       table.c.pid, table.c.task_id, table.c.scheduled_time)
                                .where(table.c.state.in_(ACTIVE_STATES))).all()
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
        table = self.datastore.tables.executions
        now = utcnow()
        report = render_report("Interrupted", [Section("Interrupted", Text(why))])
        with self.datastore.engine.begin() as conn:
            # only if nobody moved it on meanwhile (a worker starting it, the run ending)
            result = conn.execute(update(table).where(
                table.c.eid == row.eid, table.c.state == row.state,
                table.c.hostname.is_not_distinct_from(row.hostname),
                table.c.pid.is_not_distinct_from(row.pid))
                .values(state="failed", description=why[:2000], result=report,
                        updated_time=now, finished_time=now))
        if result.rowcount:
            log.warning("execution %s marked failed: %s", row.eid, why)
        return result.rowcount
