"""What both executors share: a due firing becomes an execution row *before* it runs.

The row is written together with a row of the firings table keyed by (job, scheduled time), in
one transaction (during a wake-up of APScheduler's thread, with the other firings of that
wake-up and the jobs' next run times: scheduling/wakeup.py).  So a firing is recorded at most
once even when two schedulers see it due, or when a scheduler dies after recording it but before
APScheduler moved the job's next run time on (the next leader finds it recorded and skips it);
and a firing is never lost once recorded (a run that then cannot happen ends ``failed``, see
cluster/reaper.py).
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta, timezone

from apscheduler.executors.base import BaseExecutor

from bots_scheduler.executions.lifecycle import Lifecycle
from bots_scheduler.scheduling.wakeup import Wakeup

log = logging.getLogger(__name__)


class FiringExecutor(BaseExecutor):
    """``may_fire()``: whether this scheduler may fire jobs now (it holds the lease);
    ``view(job)``: the API's Job object of an APScheduler job (secret values masked), kept
    with the execution."""

    def __init__(self, lifecycle: Lifecycle, registry, may_fire: Callable[[], bool],
                 view: Callable[[object], dict], wakeup: Wakeup | None = None):
        super().__init__()
        self.wakeup = wakeup
        self.lifecycle = lifecycle
        self.registry = registry
        self.may_fire = may_fire
        self.view = view
        # set by shutdown(): APScheduler's thread may still be submitting the jobs due in
        # the same wake-up; they are not fired (not recorded) any more
        self.closed = False

    # -- to implement ------------------------------------------------------------------------
    def dispatch(self, job, pending: list[tuple[str, datetime | None]], options: dict) -> None:
        """Run (or queue) the recorded executions ``pending`` = [(eid, scheduled time)] with
        the Runner's ``options``."""
        raise NotImplementedError

    # -- APScheduler's entry point -----------------------------------------------------------
    def _do_submit_job(self, job, run_times):
        if self.closed:
            log.info('job "%s" not fired: the scheduler is shutting down', job.name)
            return
        options = run_options(job)
        given = job.kwargs.get("execution_id")      # run-now and retries: already recorded
        if given:
            pending = [(given, None)]
        elif self.wakeup is not None and self.wakeup.in_progress():
            # recorded with the rest of this wake-up in one transaction, then dispatched
            klass = self.registry.get(job.args[0])
            due = self.due(job, run_times)
            if (klass is not None and not klass.is_enabled()) or not due:
                pending = []
            else:
                options["job_view"] = view = self.view(job)
                self.wakeup.fire(job.id, job.name, due, view,
                                 lambda recorded: self.dispatch(job, recorded, options))
                return
        else:
            # the job as it fired: kept with the execution and handed to the run, which then
            # need not read the job again
            view = options["job_view"] = self.view(job)
            pending = [(eid, run_time) for run_time in self.due(job, run_times)
                       if (eid := self.record(job, run_time, view))]
        self.dispatch(job, pending, options)

    def due(self, job, run_times: list[datetime]) -> list[datetime]:
        """The run times still within the misfire grace time (APScheduler's rule)."""
        if job.misfire_grace_time is None:
            return list(run_times)
        grace = timedelta(seconds=job.misfire_grace_time)
        now = datetime.now(timezone.utc)
        kept = [run_time for run_time in run_times if now - run_time <= grace]
        for run_time in run_times:
            if now - run_time > grace:
                log.warning('run of job "%s" due at %s missed by %s (misfire grace time %s)',
                            job.name, run_time.isoformat(), now - run_time, grace)
        return kept

    def record(self, job, run_time: datetime, view: dict | None = None) -> str | None:
        """Write the execution of this firing; None when it is already recorded or must not
        run (this scheduler is no longer the leader, or the job class is disabled)."""
        if not self.may_fire():
            log.warning('job "%s" due at %s not fired: this scheduler is no longer the leader',
                        job.name, run_time.isoformat())
            return None
        klass = self.registry.get(job.args[0])
        if klass is not None and not klass.is_enabled():
            return None
        eid = self.lifecycle.record_firing(job.id, run_time, view or self.view(job))
        if eid is None:
            log.info('job "%s" due at %s was already fired (another scheduler, or before a '
                     'restart); not fired again', job.name, run_time.isoformat())
        return eid


def run_options(job) -> dict:
    """The keyword arguments of ``Runner.run`` for a job: its options (and, for a run-now or
    a retry, the attempt number), without the execution id given separately."""
    return {key: value for key, value in job.kwargs.items() if key != "execution_id"}
