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

from bots_scheduler.datastore.store import utcnow

log = logging.getLogger(__name__)

BATCH = 500             # rows deleted per transaction
PAUSE = 0.05            # seconds between two batches: lets other writers in (SQLite)
FIRST_DELAY = 5.0       # seconds after start-up before the first pass
INTERVAL = 3600.0       # seconds between passes


class Retention:
    def __init__(self, executions, days: int, keep_runs: int, batch: int = BATCH,
                 pause: float = PAUSE, interval: float = INTERVAL,
                 first_delay: float = FIRST_DELAY, findings=None):
        self.executions = executions        # ExecutionStore: the deletes themselves
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
        executions = sum(
            self._in_batches(lambda job_id=job_id: self._prune_batch(job_id, cutoff),
                             "executions")
            for job_id in self.executions.job_ids_before(cutoff) if not self._stopping.is_set())
        logs = self._in_batches(lambda: self.executions.prune_logs(cutoff, self.batch), "logs")
        if self.findings is not None and not self._stopping.is_set():
            self.pruned["findings"] += self.findings.prune_gone(cutoff)
        return executions, logs

    def _prune_batch(self, job_id: str, cutoff) -> int:
        eids = self.executions.prune_executions(job_id, cutoff, self.keep_runs, self.batch)
        if eids and self.findings is not None:
            self.findings.forget_executions(eids)
        return len(eids)

    def _in_batches(self, delete_batch, kind: str) -> int:
        """Call ``delete_batch()`` (one short transaction) until a batch is not full."""
        deleted = 0
        while not self._stopping.is_set():
            count = delete_batch()
            deleted += count
            self.pruned[kind] += count
            if count < self.batch:
                break
            self._stopping.wait(self.pause)
        return deleted
