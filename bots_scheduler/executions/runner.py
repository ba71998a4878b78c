"""Running one execution: claim it, resolve the arguments, run the job under its deadline, turn
whatever happened into an ``Outcome``, and hand the ``FinishedRun`` to the post-run steps.

Both executors call ``Runner.run`` (the thread pool of this process, or a Celery worker).  How a
run ends is decided in one place, ``outcome_of``; the state is written by the "record" step
through ``Lifecycle``.
"""
from __future__ import annotations

import logging
import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from bots_scheduler.executions.deadline import (STOP_GRACE, BodyEnd, BodyThreads,
                                                run_with_deadline)
from bots_scheduler.executions.lifecycle import Lifecycle
from bots_scheduler.executions.outcome import FinishedRun, Outcome
from bots_scheduler.executions.states import ExecutionState
from bots_scheduler.executions.steps import ArgumentError, PostRunSteps, resolve_data_files
from bots_scheduler.jobs.base import JobBase, JobFailed, JobTimedOut
from bots_scheduler.jobs.report import Code, Report, report_title

log = logging.getLogger(__name__)

S = ExecutionState


@dataclass
class RunContext:
    """What a job instance knows of its run (``JobBase.context``)."""

    data_dir: Path
    job_name: str
    execution_id: str
    stop_event: threading.Event = field(default_factory=threading.Event)
    timeout: float | None = None      # seconds this run may take (None: no limit)
    # {name: value} of values never to show in a report (filled by argument resolvers)
    sensitive: dict[str, str] = field(default_factory=dict)



class Runner:
    """Runs executions in this process.

    ``job_lookup(job_id)``: the job as it is now (None: unknown); ``resolvers``: the argument
    resolvers, in order; ``steps``: the post-run steps (executions/steps.py);
    ``shown_arguments(job_class_string, pub_args)``: the arguments as a job view shows them
    (secret-typed values masked), for a run whose job is no longer in the jobs table."""

    def __init__(self, lifecycle: Lifecycle, registry, *, data_dir: Path,
                 job_timeout: float | None, job_lookup: Callable[[str], dict | None],
                 steps: PostRunSteps, resolvers: list | None = None,
                 shown_arguments: Callable[[str, list], list] = lambda _cs, args: list(args),
                 clock: Callable[[], datetime] | None = None):
        self.lifecycle = lifecycle
        self.registry = registry
        self.data_dir = Path(data_dir).resolve()
        self.job_timeout = job_timeout
        self.job_lookup = job_lookup
        self.shown_arguments = shown_arguments
        self.steps = steps
        self.resolvers = list(resolvers) if resolvers is not None else [resolve_data_files]
        self.clock = clock or (lambda: datetime.now(timezone.utc))
        self.body_threads = BodyThreads()       # the threads the job bodies run in
        self._active: dict[str, threading.Event] = {}
        self._stop_requests: set[str] = set()   # executions asked to stop through the API
        self._lock = threading.Lock()
        self.accepting = True

    @property
    def hostname(self) -> str:
        return self.lifecycle.hostname

    @property
    def pid(self) -> int:
        return self.lifecycle.pid

    # -- one run -----------------------------------------------------------------------------
    def run(self, job_class_string: str, job_id: str, pub_args: list, options: dict,
            execution_id: str | None = None) -> FinishedRun | None:
        """Run a job; ``execution_id``: its recorded ``scheduled`` execution (None: a new
        ``running`` one).  Returns the finished run, or None when nothing ran."""
        if not self.accepting:
            return None
        options = dict(options)
        attempt, first_eid = int(options.pop("attempt", 1) or 1), options.pop("first_eid", None)
        given_view = options.pop("job_view", None)     # run-now: the job as it was asked to run
        due = _moment(options.pop("scheduled_time", None))   # when the run was due, if known
        klass = self.registry.get(job_class_string)
        if klass is not None and not klass.is_enabled():
            log.info("job %s: class %s is disabled; not run", job_id, job_class_string)
            return None
        job = given_view or self.job_lookup(job_id) or {
            "job_id": job_id, "name": job_id, "job_class_string": job_class_string,
            "pub_args": self.shown_arguments(job_class_string, pub_args), **options}
        if klass is None:
            self._class_missing(job, job_class_string, execution_id)
            return None
        started = self.clock()
        if execution_id is None:
            execution_id = self.lifecycle.create(job, S.RUNNING, started_time=started)
        elif not self.lifecycle.claim(execution_id, started):
            return None     # stopped or failed while it waited, or started by another process
        context = RunContext(self.data_dir, job.get("name", ""), execution_id,
                             timeout=run_timeout(job, self.job_timeout))
        with self._lock:
            self._active[execution_id] = context.stop_event
        try:
            outcome = self._execute(klass, job_id, job_class_string, pub_args, context)
        finally:
            with self._lock:
                self._active.pop(execution_id, None)
                self._stop_requests.discard(execution_id)
        finished = FinishedRun(execution_id, job_id, job, klass, outcome, attempt,
                               first_eid or execution_id, due, started, self.clock(),
                               sensitive=dict(context.sensitive), pub_args=list(pub_args),
                               may_retry=self.accepting)
        self.steps.run(finished)
        return finished

    def _execute(self, klass: type[JobBase], job_id: str, job_class_string: str,
                 pub_args: list, context: RunContext) -> Outcome:
        instance = None
        ended = BodyEnd()
        try:
            arguments = list(pub_args)
            for resolve in self.resolvers:
                arguments = resolve(klass, arguments, context)
            instance = klass(job_id, context.execution_id, context)
            ended = run_with_deadline(lambda: instance.run(*arguments), context.stop_event,
                                      context.timeout,
                                      lambda: self._stop_wanted(context.execution_id),
                                      name=f"job-{context.execution_id[:8]}",
                                      threads=self.body_threads)
            if ended.error is not None and not ended.abandoned:
                raise ended.error
            outcome = outcome_of(klass, ended, context.timeout, None)
        except Exception as exc:
            if not isinstance(exc, (ArgumentError, JobFailed)):
                log.exception("job %s (%s) raised", job_id, job_class_string)
            outcome = outcome_of(klass, ended, context.timeout, exc)
        if not ended.abandoned and instance is not None:
            outcome.data, outcome.notify = instance.data, instance.notify
        return interrupted(outcome, ended, context)

    def _class_missing(self, job: dict, job_class_string: str, execution_id: str | None):
        message = (f"job class {job_class_string!r} cannot be loaded: its module is missing, "
                   f"failed to import, or no longer defines it")
        log.error("job %s: %s", job["job_id"], message)
        if execution_id is None:
            execution_id = self.lifecycle.create(job, S.SCHEDULED)
        self.lifecycle.end(execution_id, S.SCHEDULED_ERROR, "Scheduled error", message)

    # -- stopping ----------------------------------------------------------------------------
    def request_stop(self, execution_id: str) -> bool:
        """Ask a run of this process to stop; False when it does not run here."""
        with self._lock:
            if execution_id not in self._active:
                return False
            self._stop_requests.add(execution_id)
        return True

    def _stop_wanted(self, execution_id: str) -> bool:
        """A stop asked here, or (through the datastore) by another process of the cluster."""
        with self._lock:
            if execution_id in self._stop_requests:
                return True
        return self.lifecycle.stop_requested(execution_id)

    def active(self) -> list[str]:
        with self._lock:
            return list(self._active)

    def stop_all(self, grace: float) -> list[str]:
        """Ask running jobs to stop, wait up to ``grace`` seconds; return those still running."""
        self.accepting = False
        with self._lock:
            events = list(self._active.values())
        for event_ in events:
            event_.set()
        deadline = threading.Event()
        waited = 0.0
        while self.active() and waited < grace:
            deadline.wait(0.1)
            waited += 0.1
        return self.active()


# -- how a run ended -----------------------------------------------------------------------------

def outcome_of(klass: type[JobBase], ended: BodyEnd, timeout: float | None,
               error: BaseException | None) -> Outcome:
    """The outcome of a body that ended (``ended``) or raised (``error``)."""
    title = report_title(klass)
    if ended.abandoned:
        state = S.TIMEOUT if ended.timed_out else S.STOPPED
        return Outcome.ended(state, state.value.capitalize(), abandoned_message(ended, timeout))
    if error is None:
        return Outcome(S.SUCCEEDED, Report.of(ended.value, title))
    if isinstance(error, ArgumentError):
        return Outcome.ended(S.FAILED, "Bad argument", str(error))
    if isinstance(error, JobFailed):
        state = S.TIMEOUT if isinstance(error, JobTimedOut) else S.FAILED
        if error.report is None:
            return Outcome.ended(state, state.value.capitalize(), str(error))
        return Outcome(state, Report.of(error.report, title), str(error))
    # a job's own bug: the report carries the traceback
    description = f"{type(error).__name__}: {error}"
    trace = "".join(traceback.format_exception(type(error), error, error.__traceback__))
    return Outcome.ended(S.FAILED, "Unexpected Error", description, Code(trace))


def interrupted(outcome: Outcome, ended: BodyEnd, context: RunContext) -> Outcome:
    """A run that passed its deadline or was asked to stop ends so, whatever the job said."""
    if ended.timed_out and outcome.state != S.TIMEOUT:
        return outcome.with_notice(S.TIMEOUT, "Timeout", timeout_message(context.timeout))
    if ended.stopped and outcome.state != S.STOPPED:
        return outcome.with_notice(S.STOPPED, "Stopped", "stopped on request while running")
    if context.stop_event.is_set() and outcome.state not in (S.SUCCEEDED, S.TIMEOUT,
                                                             S.STOPPED):
        # the server shuts down: the job gave up on its own
        outcome.state = S.STOPPED
        outcome.description = outcome.description or "stopped while running"
    return outcome


def _moment(value) -> datetime | None:
    """A datetime given as itself or as ISO text (Celery carries JSON)."""
    if isinstance(value, str) and value:
        value = datetime.fromisoformat(value)
    return value if isinstance(value, datetime) else None


def run_timeout(job: dict, default: float | None) -> float | None:
    """The job's own ``timeout`` option, else the server's ``--job-timeout``."""
    own = job.get("timeout")
    if isinstance(own, (int, float)) and not isinstance(own, bool) and own > 0:
        return float(own)
    return default


def timeout_message(timeout: float | None) -> str:
    return f"timed out: the run took longer than its {timeout or 0:g} s timeout and was stopped"


def abandoned_message(ended: BodyEnd, timeout: float | None) -> str:
    why = timeout_message(timeout) if ended.timed_out else "stopped on request"
    return (f"{why}; the job did not stop within {STOP_GRACE:g} s of being asked to, so it was "
            f"abandoned: its thread may still run in the background and its result is ignored")
