"""Runs on Celery workers: a due firing is recorded (``scheduled``) and sent to the broker; a
worker runs it (``bots-scheduler worker``) and writes its state and report.

``--job-max-instances`` counts the job's active executions in the datastore, so it holds across
workers and across a change of leader.
"""
from __future__ import annotations

import logging
import uuid

from apscheduler.executors.base import MaxInstancesReachedError
from sqlalchemy import func, select

from bots_scheduler.datastore.store import ACTIVE_STATES, utcnow
from bots_scheduler.executors.base import FiringExecutor, run_options
from bots_scheduler.executors.celery_app import TASK_NAME, describe_broker, make_celery
from bots_scheduler.jobs.report import Section, Text, render_report

log = logging.getLogger(__name__)


class CeleryExecutor(FiringExecutor):
    def __init__(self, app):
        super().__init__(app)
        self.broker = app.settings.broker
        self.celery = make_celery(self.broker)

    def submit_job(self, job, run_times):
        with self._lock:
            if not job.kwargs.get("execution_id") and \
                    self.active_count(job.id) >= job.max_instances:
                raise MaxInstancesReachedError(job)
            self._do_submit_job(job, run_times)

    def active_count(self, job_id: str) -> int:
        table = self.app.datastore.tables.executions
        with self.app.datastore.engine.connect() as conn:
            return conn.execute(select(func.count()).select_from(table).where(
                table.c.job_id == job_id, table.c.state.in_(ACTIVE_STATES))).scalar() or 0

    def dispatch(self, job, pending):
        for eid, _run_time in pending:
            self.send(eid, job)

    def send(self, eid: str, job) -> None:
        """Queue the run.  Its row gets the task id only once the message is out, so that a
        row without one is still the scheduler's (failed if the scheduler dies) and a row with
        one is the broker's (see cluster/reaper.py)."""
        job_class_string, job_id, *pub_args = job.args
        task_id = uuid.uuid4().hex
        try:
            self.celery.send_task(TASK_NAME, task_id=task_id, args=[
                eid, job_class_string, job_id, list(pub_args), run_options(job)])
        except Exception as exc:     # kombu raises transport-specific errors
            why = (f"could not queue the run on the broker {describe_broker(self.broker)}: "
                   f"{str(exc).splitlines()[0] if str(exc) else type(exc).__name__}")
            log.error("execution %s: %s", eid, why)
            self.app.datastore.update_execution(
                eid, state="failed", description=why, finished_time=utcnow(),
                result=render_report("Not queued", [Section("Not queued", Text(why))]))
            return
        self.app.datastore.update_execution(eid, task_id=task_id)

    def shutdown(self, wait=True):
        self.celery.close()
