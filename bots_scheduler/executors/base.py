"""What both executors share: a due firing becomes an execution row *before* it runs.

The row is written together with a row of the firings table keyed by (job, scheduled time), in
one transaction (``ExecutionStore.record_firing``).  So a firing is recorded at most once even
when two schedulers see it due, or when a scheduler dies after recording it but before
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

log = logging.getLogger(__name__)


class FiringExecutor(BaseExecutor):
    """``may_fire()``: whether this scheduler may fire jobs now (it holds the lease);
    ``view(job)``: the API's Job object of an APScheduler job (secret values masked), kept
    with the execution."""

    def __init__(self, lifecycle: Lifecycle, registry, may_fire: Callable[[], bool],
                 view: Callable[[object], dict]):
        super().__init__()
        self.lifecycle = lifecycle
        self.registry = registry
        self.may_fire = may_fire
        self.view = view

    # -- to implement ------------------------------------------------------------------------
    def dispatch(self, job, pending: list[tuple[str, datetime | None]]) -> None:
        """Run (or queue) the recorded executions ``pending`` = [(eid, scheduled time)]."""
        raise NotImplementedError

    # -- APScheduler's entry point -----------------------------------------------------------
    def _do_submit_job(self, job, run_times):
        given = job.kwargs.get("execution_id")      # run-now and retries: already recorded
        if given:
            pending = [(given, None)]
        else:
            pending = [(eid, run_time) for run_time in self.due(job, run_times)
                       if (eid := self.record(job, run_time))]
        self.dispatch(job, pending)

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

    def record(self, job, run_time: datetime) -> str | None:
        """Write the execution of this firing; None when it is already recorded or must not
        run (this scheduler is no longer the leader, or the job class is disabled)."""
        if not self.may_fire():
            log.warning('job "%s" due at %s not fired: this scheduler is no longer the leader',
                        job.name, run_time.isoformat())
            return None
        klass = self.registry.get(job.args[0])
        if klass is not None and not klass.is_enabled():
            return None
        eid = self.lifecycle.record_firing(job.id, run_time, self.view(job))
        if eid is None:
            log.info('job "%s" due at %s was already fired (another scheduler, or before a '
                     'restart); not fired again', job.name, run_time.isoformat())
        return eid


def run_options(job) -> dict:
    """The keyword arguments of ``Runner.run`` for a job: its options (and, for a run-now or
    a retry, the attempt number), without the execution id given separately."""
    return {key: value for key, value in job.kwargs.items() if key != "execution_id"}
