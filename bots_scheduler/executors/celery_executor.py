"""Runs on Celery workers: a due firing is recorded (``scheduled``) and sent to the broker; a
worker runs it (``bots-scheduler worker``) and writes its state and report.

``--job-max-instances`` counts the job's active executions in the datastore, so it holds across
workers and across a change of leader.
"""
from __future__ import annotations

import logging
import uuid

from apscheduler.executors.base import MaxInstancesReachedError

from bots_scheduler.executions.states import ExecutionState
from bots_scheduler.executors.base import FiringExecutor
from bots_scheduler.executors.celery_app import TASK_NAME, describe_broker, make_celery

log = logging.getLogger(__name__)


class CeleryExecutor(FiringExecutor):
    def __init__(self, lifecycle, registry, may_fire, view, broker: str, wakeup=None):
        super().__init__(lifecycle, registry, may_fire, view, wakeup)
        self.broker = broker
        self.celery = make_celery(self.broker)

    def submit_job(self, job, run_times):
        with self._lock:
            if not job.kwargs.get("execution_id") and \
                    self.lifecycle.store.active_count(job.id) >= job.max_instances:
                raise MaxInstancesReachedError(job)
            self._do_submit_job(job, run_times)

    def dispatch(self, job, pending, options):
        for eid, run_time in pending:
            self.send(eid, job, options, run_time)

    def send(self, eid: str, job, options: dict, run_time=None) -> None:
        """Queue the run.  Its row gets the task id only once the message is out, so that a
        row without one is still the scheduler's (failed if the scheduler dies) and a row with
        one is the broker's (see cluster/reaper.py)."""
        job_class_string, job_id, *pub_args = job.args
        task_id = uuid.uuid4().hex
        options = dict(options)
        if run_time is not None:        # a firing: when it was due (for the lag metric)
            options["scheduled_time"] = run_time.isoformat()
        try:
            self.celery.send_task(TASK_NAME, task_id=task_id, args=[
                eid, job_class_string, job_id, list(pub_args), options])
        except Exception as exc:     # kombu raises transport-specific errors
            why = (f"could not queue the run on the broker {describe_broker(self.broker)}: "
                   f"{str(exc).splitlines()[0] if str(exc) else type(exc).__name__}")
            log.error("execution %s: %s", eid, why)
            self.lifecycle.end(eid, ExecutionState.FAILED, "Not queued", why,
                               expect=(ExecutionState.SCHEDULED,))
            return
        self.lifecycle.store.set(eid, task_id=task_id)

    def shutdown(self, wait=True):
        self.closed = True
        self.celery.close()
