"""The shared job store, seen only by the leader.

Every instance runs APScheduler (run-now requests and retries go through its in-memory store on
whichever instance received them), but the jobs of the shared SQLAlchemy store are due only on
the scheduler holding the lease: to the others that store has nothing due and no next run time.
(It is the ResilientJobStore that survives database outages.)
"""
from __future__ import annotations

import logging
from typing import Callable

from apscheduler.jobstores.base import JobLookupError

from bots_scheduler.scheduling.jobstore import ResilientJobStore
from bots_scheduler.scheduling.wakeup import Wakeup

log = logging.getLogger(__name__)


class LeaderJobStore(ResilientJobStore):
    """``wakeup``: where the writes of a wake-up that found due jobs wait for its end
    (scheduling/wakeup.py)."""

    def __init__(self, may_fire: Callable[[], bool], wakeup: Wakeup | None = None, **kwargs):
        super().__init__(**kwargs)
        self.may_fire = may_fire
        self.wakeup = wakeup

    def get_due_jobs(self, now):
        due = super().get_due_jobs(now) if self.may_fire() else []
        if due and self.wakeup is not None:
            self.wakeup.begin()
        return due

    def get_next_run_time(self):
        # APScheduler asks once it handled every due job: the wake-up's writes are made now
        if self.wakeup is not None and self.wakeup.in_progress():
            self.wakeup.end()
        return super().get_next_run_time() if self.may_fire() else None

    def update_job(self, job):
        if self.wakeup is not None and self.wakeup.in_progress():
            values = self._update_values(job)
            self.wakeup.defer(lambda conn: self._write_update(conn, values, job.name),
                              lambda: self._brought_forward(job.next_run_time))
            return
        # another instance may delete a job while the leader fires it; APScheduler would let
        # the JobLookupError end its thread, and the leader would fire nothing more
        try:
            super().update_job(job)
        except JobLookupError:
            log.info('job "%s" was deleted while it fired; nothing to update', job.name)

    def _write_update(self, conn, values: dict, name: str) -> None:
        if conn.execute(self._update, values).rowcount == 0:
            log.info('job "%s" was deleted while it fired; nothing to update', name)
