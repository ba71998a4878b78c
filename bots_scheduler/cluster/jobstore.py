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

log = logging.getLogger(__name__)


class LeaderJobStore(ResilientJobStore):
    def __init__(self, may_fire: Callable[[], bool], **kwargs):
        super().__init__(**kwargs)
        self.may_fire = may_fire

    def get_due_jobs(self, now):
        return super().get_due_jobs(now) if self.may_fire() else []

    def get_next_run_time(self):
        return super().get_next_run_time() if self.may_fire() else None

    def update_job(self, job):
        # another instance may delete a job while the leader fires it; APScheduler would let
        # the JobLookupError end its thread, and the leader would fire nothing more
        try:
            super().update_job(job)
        except JobLookupError:
            log.info('job "%s" was deleted while it fired; nothing to update', job.name)
