"""Retries: a run that ends ``failed`` or ``timeout`` is tried again, up to the job's
``retries`` times, each attempt ``retry_delay`` seconds (default 60) after the previous one
ended.  Each attempt is an execution of its own, ``scheduled`` until its time comes; the
attempts of one run share the first attempt's id (``first_execution_id``).
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta, timezone

from bots_scheduler.executions.lifecycle import Lifecycle
from bots_scheduler.executions.outcome import FinishedRun
from bots_scheduler.executions.states import ExecutionState

log = logging.getLogger(__name__)

RETRIED_STATES = (ExecutionState.FAILED, ExecutionState.TIMEOUT)
DEFAULT_RETRY_DELAY = 60.0

# queue(job, execution_id, run_at, extra run options, pub_args): run the execution at run_at
Queue = Callable[[dict, str, datetime, dict, list], None]


def retries_of(job: dict) -> int:
    value = job.get("retries")
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def delay_of(job: dict) -> float:
    delay = job.get("retry_delay")
    return DEFAULT_RETRY_DELAY if delay is None else float(delay)


class Retries:
    """The "retry" post-run step (after "record"): queues the next attempt, and marks the run
    not final so that notifications and alerts wait for the last attempt."""

    def __init__(self, lifecycle: Lifecycle, queue: Queue,
                 clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc)):
        self.lifecycle = lifecycle
        self.queue = queue
        self.clock = clock

    def __call__(self, run: FinishedRun) -> None:
        job = run.job
        if run.state not in RETRIED_STATES or run.attempt > retries_of(job) \
                or not run.may_retry:
            return
        attempt, first = run.attempt + 1, run.first_execution_id or run.execution_id
        delay = delay_of(job)
        run_at = self.clock() + timedelta(seconds=delay)
        try:
            eid = self.lifecycle.create(job, ExecutionState.SCHEDULED,
                                        f"attempt {attempt} (retry of execution {first})",
                                        scheduled_time=run_at, attempt=attempt, first_eid=first)
            self.queue(job, eid, run_at, {"attempt": attempt, "first_eid": first}, run.pub_args)
        except Exception:
            log.exception("job %s: attempt %d could not be scheduled", job.get("job_id"),
                          attempt)
            return
        run.final = False
        log.info("job %s: attempt %d in %g s (first execution %s)", job.get("job_id"), attempt,
                 delay, first)
