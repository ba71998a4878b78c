"""Retention: executions and audit-log entries older than ``--retention-days`` are deleted.

A background thread prunes shortly after start-up and then every hour, in small batches (one short
transaction each, with a pause in between), so runs and API requests never wait long for the
database.  The last ``--keep-runs`` executions of each job, with their reports, are always kept,
as are executions still active.
"""
from __future__ import annotations

import logging
import threading
from datetime import timedelta

from sqlalchemy import delete, select

from bots_scheduler.datastore.store import ACTIVE_STATES, utcnow

log = logging.getLogger(__name__)

BATCH = 500             # rows deleted per transaction
PAUSE = 0.05            # seconds between two batches: lets other writers in (SQLite)
FIRST_DELAY = 5.0       # seconds after start-up before the first pass
INTERVAL = 3600.0       # seconds between passes


class Retention:
    def __init__(self, datastore, days: int, keep_runs: int, batch: int = BATCH,
                 pause: float = PAUSE, interval: float = INTERVAL,
                 first_delay: float = FIRST_DELAY, findings=None):
        self.datastore = datastore
        # the findings store: the history of pruned executions goes with them; findings gone
        # before the cutoff go too; open findings are always kept
        self.findings = findings
        self.days = days
        self.keep_runs = keep_runs
        self.batch, self.pause = batch, pause
        self.interval, self.first_delay = interval, first_delay
        self.pruned = {"executions": 0, "logs": 0}       # totals since start (for /metrics)
        if findings is not None:
            self.pruned["findings"] = 0
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    # -- life cycle --------------------------------------------------------------------------
    def start(self) -> None:
        if self.days <= 0:
            log.info("retention: disabled (--retention-days 0); nothing is pruned")
            return
        self._thread = threading.Thread(target=self._loop, name="retention", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _loop(self) -> None:
        wait = self.first_delay
        while not self._stopping.wait(wait):
            try:
                executions, logs = self.prune()
                if executions or logs:
                    log.info("retention: pruned %d execution(s) and %d audit log entr%s older "
                             "than %d days", executions, logs, "y" if logs == 1 else "ies",
                             self.days)
            except Exception:      # the database may be down for a while: try again later
                log.exception("retention: pruning failed; trying again in %g s", self.interval)
            wait = self.interval

    # -- one pass ----------------------------------------------------------------------------
    def prune(self) -> tuple[int, int]:
        cutoff = utcnow() - timedelta(days=self.days)
        executions = sum(self._prune_job(job_id, cutoff) for job_id in self._old_job_ids(cutoff)
                         if not self._stopping.is_set())
        logs = self._prune_logs(cutoff)
        if self.findings is not None and not self._stopping.is_set():
            self.pruned["findings"] += self.findings.prune_gone(cutoff)
        return executions, logs

    def _old_job_ids(self, cutoff) -> list[str]:
        table = self.datastore.tables.executions
        with self.datastore.engine.connect() as conn:
            return list(conn.execute(select(table.c.job_id).distinct()
                                     .where(table.c.scheduled_time < cutoff)).scalars())

    def _prune_job(self, job_id: str, cutoff) -> int:
        table = self.datastore.tables.executions
        with self.datastore.engine.connect() as conn:
            kept = list(conn.execute(select(table.c.eid).where(table.c.job_id == job_id)
                                     .order_by(table.c.scheduled_time.desc())
                                     .limit(self.keep_runs)).scalars()) if self.keep_runs else []
        query = (select(table.c.eid)
                 .where(table.c.job_id == job_id, table.c.scheduled_time < cutoff,
                        table.c.state.not_in(ACTIVE_STATES), table.c.eid.not_in(kept))
                 .order_by(table.c.scheduled_time).limit(self.batch))
        return self._delete_in_batches(query, table.c.eid, "executions")

    def _prune_logs(self, cutoff) -> int:
        table = self.datastore.tables.logs
        query = (select(table.c.id).where(table.c.created_time < cutoff)
                 .order_by(table.c.id).limit(self.batch))
        return self._delete_in_batches(query, table.c.id, "logs")

    def _delete_in_batches(self, query, key_column, kind: str) -> int:
        deleted = 0
        while not self._stopping.is_set():
            with self.datastore.engine.begin() as conn:
                keys = list(conn.execute(query).scalars())
                if keys:
                    conn.execute(delete(key_column.table).where(key_column.in_(keys)))
            if keys and kind == "executions" and self.findings is not None:
                self.findings.forget_executions(keys)
            deleted += len(keys)
            self.pruned[kind] += len(keys)
            if len(keys) < self.batch:
                break
            self._stopping.wait(self.pause)
        return deleted
