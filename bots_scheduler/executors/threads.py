"""Runs in this process: a pool of ``--threadpool-size`` threads (the default executor)."""
from __future__ import annotations

import concurrent.futures
import logging
from datetime import datetime, timedelta, timezone

from bots_scheduler.executions.states import ExecutionState
from bots_scheduler.executors.base import FiringExecutor

log = logging.getLogger(__name__)


class ThreadsExecutor(FiringExecutor):
    def __init__(self, lifecycle, registry, may_fire, view, runner, pool_size: int,
                 wakeup=None):
        super().__init__(lifecycle, registry, may_fire, view, wakeup)
        self.runner = runner
        self._pool = concurrent.futures.ThreadPoolExecutor(pool_size, thread_name_prefix="job")

    def dispatch(self, job, pending, options):
        # one pool task per submission, as APScheduler does: max_instances counts submissions
        try:
            future = self._pool.submit(self._run_all, job.args, options, pending,
                                       job.misfire_grace_time)
        except RuntimeError:        # shut down between the check of `closed` and here
            self._not_started(job.id, pending)
            return
        future.add_done_callback(lambda f: self._done(job.id, f, pending))

    def shutdown(self, wait=True):
        """Runs waiting for a thread are not started: each is recorded ``stopped`` (by
        ``_done``, as its future is cancelled)."""
        self.closed = True
        self._pool.shutdown(wait=wait, cancel_futures=True)

    # -- in a pool thread --------------------------------------------------------------------
    def _run_all(self, args, options, pending, grace):
        job_class_string, job_id, *pub_args = args
        for eid, run_time in pending:
            late = datetime.now(timezone.utc) - run_time if run_time else timedelta(0)
            if grace is not None and late > timedelta(seconds=grace):
                self._missed(eid, late, grace)
                continue
            due = {"scheduled_time": run_time} if run_time else {}
            self._run_one(job_class_string, job_id, list(pub_args), {**options, **due}, eid)

    def _run_one(self, job_class_string, job_id, pub_args, options, eid):
        try:
            self.runner.run(job_class_string, job_id, pub_args, options, eid)
        except Exception:       # the runner records a job's own errors; this is ours
            log.exception("execution %s of job %s could not be run", eid, job_id)

    def _missed(self, eid, late, grace):
        why = (f"missed: every job thread was busy until {late.total_seconds():.0f} s after "
               f"the scheduled time, beyond the misfire grace time ({grace:g} s)")
        self.lifecycle.end(eid, ExecutionState.FAILED, "Missed", why,
                           expect=(ExecutionState.SCHEDULED,))

    def _not_started(self, job_id, pending) -> None:
        self.lifecycle.abandon([eid for eid, _due in pending],
                               "not started: the server shut down while it waited for a job "
                               "thread", ExecutionState.STOPPED)

    def _done(self, job_id, future, pending):
        if future.cancelled():
            self._not_started(job_id, pending)
            self._run_job_success(job_id, [])
            return
        exc = future.exception()
        if exc is None:
            self._run_job_success(job_id, [])
        else:
            self._run_job_error(job_id, exc, exc.__traceback__)
