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

from bots_scheduler.jobs.base import JobBase, JobFailed
from bots_scheduler.jobs.report import Code, Section, Text, data_to_json, render_report

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


class ArgumentError(Exception):
    """A job argument that cannot be used (a file outside the data folder, a missing file)."""


class Runner:
    def __init__(self, app):
        self.app = app
        self.hostname = socket.gethostname()
        self.pid = os.getpid()
        self._active: dict[str, threading.Event] = {}
        self._lock = threading.Lock()
        self.accepting = True

    def install(self) -> None:
        global _installed
        _installed = self

    # -- one run -----------------------------------------------------------------------------
    def new_execution(self, job: dict, state: str = "scheduled", description: str = "") -> str:
        eid = uuid.uuid4().hex
        self.app.datastore.add_execution(eid, job, state, datetime.now(timezone.utc),
                                         description=description, hostname=self.hostname,
                                         pid=self.pid)
        return eid

    def run(self, job_class_string: str, job_id: str, pub_args: list, options: dict,
            execution_id: str | None = None) -> RunOutcome | None:
        app = self.app
        if not self.accepting:
            return None
        klass = app.registry.get(job_class_string)
        if klass is not None and not klass.is_enabled():
            log.info("job %s: class %s is disabled; not run", job_id, job_class_string)
            return None
        job = app.scheduler.job_snapshot(job_id) or {
            "job_id": job_id, "name": job_id, "job_class_string": job_class_string,
            "pub_args": pub_args, **options}
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
        if execution_id is None:
            execution_id = self.new_execution(job, "running")
        stop_event = threading.Event()
        with self._lock:
            self._active[execution_id] = stop_event
        started = datetime.now(timezone.utc)
        app.datastore.update_execution(execution_id, state="running", started_time=started,
                                       hostname=self.hostname, pid=self.pid)
        context = JobContext(Path(app.settings.data_dir).resolve(), job.get("name", ""),
                             execution_id, stop_event)
        instance = None
        try:
            arguments = resolve_arguments(klass, pub_args, context.data_dir)
            instance = klass(job_id, execution_id, context)
            result = instance.run(*arguments)
            if not isinstance(result, str):
                result = render_report(klass.meta_info()["report_title"]
                                       or klass.meta_info()["job_class_name"], result)
            state, description = "succeeded", ""
        except ArgumentError as exc:
            state, description = "failed", str(exc)
            result = render_report("Bad argument", [Section("Bad argument", Text(str(exc)))])
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
        data = getattr(instance, "_data", None)
        if stop_event.is_set() and state != "succeeded":
            state, description = "stopped", description or "stopped while running"
        app.datastore.update_execution(
            execution_id, state=state, description=description[:2000], result=result,
            data=data_to_json(data) if data not in (None, "", [], {}) else None,
            finished_time=datetime.now(timezone.utc))
        outcome = RunOutcome(execution_id, job_id, job, klass, state, result, data,
                             getattr(instance, "_notify", None),
                             klass.meta_info()["report_title"] or klass.meta_info()["job_class_name"])
        for listener in list(app.run_listeners):
            try:
                listener(outcome)
            except Exception:
                log.exception("run listener %r failed for execution %s", listener, execution_id)
        return outcome

    # -- stopping ----------------------------------------------------------------------------
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


def resolve_arguments(klass: type[JobBase], pub_args: list, data_dir: Path) -> list:
    """``file`` arguments become absolute paths inside the data folder."""
    specs = klass.meta_info()["arguments"]
    resolved = list(pub_args)
    for index, spec in enumerate(specs):
        if index >= len(resolved) or not isinstance(spec, dict) or spec.get("type") != "file":
            continue
        resolved[index] = resolve_data_file(resolved[index], data_dir)
    return resolved


def resolve_data_file(value, data_dir: Path) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ArgumentError(f"file argument {value!r} is not a file name of the data folder")
    if "\x00" in value:
        raise ArgumentError("file argument contains a NUL byte")
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
