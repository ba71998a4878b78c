"""Running one job: the execution row, the job instance, its report, and what follows a run.

APScheduler stores a textual reference to ``fire``; ``fire`` hands the work to the Runner of this
process, installed once at start-up.
"""
from __future__ import annotations

import json
import logging
import os
import socket
import threading
import traceback
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from bots_scheduler.datafiles.validation import DataFileError, check_name
from bots_scheduler.jobs.base import JobBase, JobFailed, JobTimedOut
from bots_scheduler.jobs.report import (Code, Section, Text, data_to_json, render_items,
                                        render_report)
from bots_scheduler.secrets.arguments import InvalidReference, MissingSecret, mask
from bots_scheduler.secrets.arguments import resolve as resolve_secrets
from bots_scheduler.secrets.keys import KeyUnavailable
from bots_scheduler.scheduling.deadline import STOP_GRACE, BodyEnd, run_with_deadline

log = logging.getLogger(__name__)

_installed: "Runner | None" = None


def fire(job_class_string: str, job_id: str, *pub_args, execution_id: str | None = None,
         **options):
    """Entry point of every APScheduler job (scheduled or run-now)."""
    if _installed is None:
        log.error("job %s fired before the runner was installed; skipped", job_id)
        return
    _installed.run(job_class_string, job_id, list(pub_args), options, execution_id)


@dataclass
class JobContext:
    data_dir: Path
    job_name: str
    execution_id: str
    stop_event: threading.Event = field(default_factory=threading.Event)
    timeout: float | None = None      # seconds this run may take (None: no limit)


@dataclass
class RunOutcome:
    execution_id: str
    job_id: str
    job: dict
    job_class: type | None
    state: str
    result: str
    data: object = None
    notify: bool | None = None
    title: str = ""
    # False while another attempt is scheduled (retries): notifications wait for the last one
    final: bool = True
    attempt: int = 1
    first_execution_id: str = ""
    scheduled_time: datetime | None = None
    started_time: datetime | None = None
    finished_time: datetime | None = None
    items: object = None              # the report items the job returned (findings among them)
    findings: object = None           # what recording them did (findings.store.Recorded)


class ArgumentError(Exception):
    """A job argument that cannot be used (a file outside the data folder, a missing file)."""


class Runner:
    def __init__(self, app):
        self.app = app
        self.hostname = getattr(app.settings, "hostname", "") or socket.gethostname()
        self.pid = os.getpid()
        self._active: dict[str, threading.Event] = {}
        self._stop_requests: set[str] = set()   # executions asked to stop through the API
        self._lock = threading.Lock()
        self.accepting = True

    def install(self) -> None:
        global _installed
        _installed = self

    # -- one run -----------------------------------------------------------------------------
    def new_execution(self, job: dict, state: str = "scheduled", description: str = "",
                      scheduled_time: datetime | None = None, attempt: int = 1,
                      first_eid: str | None = None) -> str:
        eid = uuid.uuid4().hex
        self.app.datastore.add_execution(eid, job, state,
                                         scheduled_time or datetime.now(timezone.utc),
                                         description=description, hostname=self.hostname,
                                         pid=self.pid, attempt=attempt, first_eid=first_eid)
        return eid

    def run(self, job_class_string: str, job_id: str, pub_args: list, options: dict,
            execution_id: str | None = None) -> RunOutcome | None:
        app = self.app
        if not self.accepting:
            return None
        attempt, first_eid = int(options.pop("attempt", 1) or 1), options.pop("first_eid", None)
        given_view = options.pop("job_view", None)     # run-now: the job as it was asked to run
        # when the run was due, if the caller knows (else the metrics read it from the row)
        due = _moment(options.pop("scheduled_time", None))
        klass = app.registry.get(job_class_string)
        if klass is not None and not klass.is_enabled():
            log.info("job %s: class %s is disabled; not run", job_id, job_class_string)
            return None
        job = given_view or app.scheduler.job_snapshot(job_id) or {
            "job_id": job_id, "name": job_id, "job_class_string": job_class_string,
            "pub_args": mask(pub_args, app.scheduler.secret_positions(job_class_string)),
            **options}
        if klass is None:
            message = (f"job class {job_class_string!r} cannot be loaded: its module is missing, "
                       f"failed to import, or no longer defines it")
            html = render_report("Scheduled error", [Section("Scheduled error", Text(message))])
            if execution_id is None:
                execution_id = self.new_execution(job, "scheduled error", message)
            app.datastore.update_execution(execution_id, state="scheduled error",
                                           description=message, result=html,
                                           finished_time=datetime.now(timezone.utc))
            log.error("job %s: %s", job_id, message)
            return None
        started = datetime.now(timezone.utc)
        if execution_id is None:
            execution_id = self.new_execution(job, "running")
            app.datastore.update_execution(execution_id, started_time=started)
        elif not app.datastore.claim_execution(execution_id, self.hostname, self.pid, started):
            return None     # stopped or failed while it waited, or started by another process
        stop_event = threading.Event()
        with self._lock:
            self._active[execution_id] = stop_event
        timeout = run_timeout(job, app.settings)
        context = JobContext(Path(app.settings.data_dir).resolve(), job.get("name", ""),
                             execution_id, stop_event, timeout)
        instance = None
        ended = BodyEnd()
        try:
            arguments = resolve_arguments(klass, pub_args, context.data_dir, app.secrets)
            instance = klass(job_id, execution_id, context)
            ended = run_with_deadline(lambda: instance.run(*arguments), stop_event, timeout,
                                      lambda: self._stop_wanted(execution_id),
                                      name=f"job-{execution_id[:8]}")
            if ended.abandoned:
                raise Abandoned(abandoned_message(ended, timeout))
            if ended.error is not None:
                raise ended.error
            result = ended.value
            if not isinstance(result, str):
                result = render_report(klass.meta_info()["report_title"]
                                       or klass.meta_info()["job_class_name"], result)
            state, description = "succeeded", ""
        except ArgumentError as exc:
            state, description = "failed", str(exc)
            result = render_report("Bad argument", [Section("Bad argument", Text(str(exc)))])
        except Abandoned as exc:
            state = "timeout" if ended.timed_out else "stopped"
            description = str(exc)
            result = render_report(state.capitalize(),
                                   [Section(state.capitalize(), Text(str(exc)))])
        except JobTimedOut as exc:
            state, description = "timeout", str(exc)
            result = exc.report_html or render_report(
                "Timeout", [Section("Timeout", Text(str(exc)))])
        except JobFailed as exc:
            state, description = "failed", str(exc)
            result = exc.report_html or render_report(
                "Failed", [Section("Failed", Text(str(exc)))])
        except Exception as exc:  # a job's own bug: the report carries the traceback
            log.exception("job %s (%s) raised", job_id, job_class_string)
            state, description = "failed", f"{type(exc).__name__}: {exc}"
            result = render_report("Unexpected Error", [
                Section("Unexpected Error", Text(description), Code(traceback.format_exc()))])
        finally:
            with self._lock:
                self._active.pop(execution_id, None)
                self._stop_requests.discard(execution_id)
        data = None if ended.abandoned else getattr(instance, "_data", None)
        if ended.timed_out and state not in ("timeout",):
            state, description, result = "timeout", timeout_message(timeout), with_notice(
                result, "Timeout", timeout_message(timeout))
        elif ended.stopped and state != "stopped":
            state, description = "stopped", "stopped on request while running"
            result = with_notice(result, "Stopped", description)
        elif stop_event.is_set() and state not in ("succeeded", "timeout"):
            state, description = "stopped", description or "stopped while running"
        finished = datetime.now(timezone.utc)
        app.datastore.update_execution(
            execution_id, state=state, description=description[:2000], result=result,
            data=data_to_json(data) if data not in (None, "", [], {}) else None,
            finished_time=finished)
        retry = getattr(app.scheduler, "schedule_retry", None)
        final = not (retry and state in RETRIED_STATES and attempt <= retries_of(job)
                     and self.accepting
                     and retry(job, first_eid or execution_id, attempt + 1, pub_args))
        outcome = RunOutcome(execution_id, job_id, job, klass, state, result, data,
                             getattr(instance, "_notify", None),
                             (klass.meta_info()["report_title"]
                              or klass.meta_info()["job_class_name"]),
                             final, attempt, first_eid or execution_id, due, started, finished,
                             getattr(instance, "_report_items", None))
        for listener in list(app.run_listeners):
            try:
                listener(outcome)
            except Exception:
                log.exception("run listener %r failed for execution %s", listener, execution_id)
        return outcome

    # -- stopping ----------------------------------------------------------------------------
    def request_stop(self, execution_id: str) -> bool:
        """Ask a run of this process to stop; False when it does not run here."""
        with self._lock:
            event_ = self._active.get(execution_id)
            if event_ is None:
                return False
            self._stop_requests.add(execution_id)
        return True

    def _stop_wanted(self, execution_id: str) -> bool:
        """A stop asked here, or (through the datastore) by another process of the cluster."""
        with self._lock:
            if execution_id in self._stop_requests:
                return True
        return self.app.datastore.execution_state(execution_id) == "stopping"

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


def _moment(value) -> datetime | None:
    """A datetime given as itself or as ISO text (Celery carries JSON)."""
    if isinstance(value, str) and value:
        value = datetime.fromisoformat(value)
    return value if isinstance(value, datetime) else None


class Abandoned(Exception):
    """The job's body ignored the stop signal; its thread was left behind."""


RETRIED_STATES = ("failed", "timeout")
FINISHED_BEFORE_START = ("stopped", "stopping")


def run_timeout(job: dict, settings) -> float | None:
    """The job's own ``timeout`` option, else the server's ``--job-timeout``."""
    own = job.get("timeout")
    if isinstance(own, (int, float)) and not isinstance(own, bool) and own > 0:
        return float(own)
    return getattr(settings, "job_timeout", None)


def retries_of(job: dict) -> int:
    value = job.get("retries")
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def timeout_message(timeout: float | None) -> str:
    return f"timed out: the run took longer than its {timeout or 0:g} s timeout and was stopped"


def abandoned_message(ended: BodyEnd, timeout: float | None) -> str:
    why = timeout_message(timeout) if ended.timed_out else "stopped on request"
    return (f"{why}; the job did not stop within {STOP_GRACE:g} s of being asked to, so it was "
            f"abandoned: its thread may still run in the background and its result is ignored")


def with_notice(result_html: str, title: str, message: str) -> str:
    """The job's report with a section saying why the run ended, right under its title."""
    notice = render_items([Section(title, Text(message))])
    if result_html and "</h1>" in result_html:
        return result_html.replace("</h1>", "</h1>" + notice, 1)
    return render_report(title, [Section(title, Text(message))]) + (result_html or "")


def resolve_arguments(klass: type[JobBase], pub_args: list, data_dir: Path,
                      secrets=None) -> list:
    """``{"secret": NAME}`` arguments become the secret's value (read here, in the process
    that runs the job); ``file`` arguments become absolute paths inside the data folder."""
    specs = klass.meta_info()["arguments"]
    resolved = list(pub_args)
    if secrets is not None:
        try:
            resolved, _values = resolve_secrets(resolved, secrets)
        except (MissingSecret, KeyUnavailable, InvalidReference) as exc:
            raise ArgumentError(str(exc)) from None
    for index, spec in enumerate(specs):
        if index >= len(resolved) or not isinstance(spec, dict) or spec.get("type") != "file":
            continue
        resolved[index] = resolve_data_file(resolved[index], data_dir)
    return resolved


def resolve_data_file(value, data_dir: Path) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ArgumentError(f"file argument {value!r} is not a file name of the data folder")
    try:
        check_name(value)   # only what the Files API accepts: never datastore.db.lock & co.
    except DataFileError as exc:
        raise ArgumentError(f"file argument: {exc.message}") from None
    root = data_dir.resolve()
    candidate = (root / value).resolve()
    if candidate != root and root not in candidate.parents:
        raise ArgumentError(f"file argument {value!r} leaves the data folder")
    if not candidate.is_file():
        raise ArgumentError(f"data file {value!r} does not exist in the data folder "
                            f"(upload it, or fix the job's arguments)")
    return str(candidate)


def job_json(job: dict) -> str:
    return json.dumps(job, default=str)
