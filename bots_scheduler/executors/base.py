"""What both executors share: a due firing becomes an execution row *before* it runs.

The row is written together with a row of the firings table keyed by (job, scheduled time), in
one transaction.  So a firing is recorded at most once even when two schedulers see it due, or
when a scheduler dies after recording it but before APScheduler moved the job's next run time on
(the next leader finds it recorded and skips it); and a firing is never lost once recorded (a run
that then cannot happen ends ``failed``, see cluster/reaper.py).
"""
from __future__ import annotations

import logging
import uuid
from datetime import datetime, timedelta, timezone

from apscheduler.executors.base import BaseExecutor
from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError

from bots_scheduler.datastore.store import to_naive_utc, utcnow

log = logging.getLogger(__name__)


class FiringExecutor(BaseExecutor):
    def __init__(self, app):
        super().__init__()
        self.app = app

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
        app = self.app
        cluster = getattr(app, "cluster", None)
        if cluster is not None and not cluster.may_fire():
            log.warning('job "%s" due at %s not fired: this scheduler is no longer the leader',
                        job.name, run_time.isoformat())
            return None
        klass = app.registry.get(job.args[0])
        if klass is not None and not klass.is_enabled():
            return None
        view = app.scheduler.view(job)
        eid = uuid.uuid4().hex
        firings = cluster.tables.firings if cluster is not None else None
        try:
            with app.datastore.engine.begin() as conn:
                if firings is not None:
                    conn.execute(insert(firings).values(
                        job_id=job.id, run_time=to_naive_utc(run_time), eid=eid,
                        created_time=utcnow()))
                app.datastore.add_execution(eid, view, "scheduled", run_time,
                                            hostname=app.runner.hostname, pid=app.runner.pid,
                                            conn=conn)
        except IntegrityError:
            log.info('job "%s" due at %s was already fired (another scheduler, or before a '
                     'restart); not fired again', job.name, run_time.isoformat())
            return None
        return eid


def run_options(job) -> dict:
    """The keyword arguments of ``Runner.run`` for a job: its options (and, for a run-now or
    a retry, the attempt number), without the execution id given separately."""
    return {key: value for key, value in job.kwargs.items() if key != "execution_id"}
