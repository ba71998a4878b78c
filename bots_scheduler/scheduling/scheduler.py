"""The scheduling core: APScheduler 3 with the jobs in the configured database.

``JobScheduler`` is what the REST API talks to: it validates job definitions, keeps the audit log
in step with every change, and queues run-now requests and retries on the same executor as
scheduled runs.  It gets its job store and executor built (app.py): the job store sees due jobs
only while this scheduler leads the cluster, the executor hands runs to the Runner.
"""
from __future__ import annotations

import logging
import threading
from datetime import datetime, timezone

from apscheduler.jobstores.base import JobLookupError
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import STATE_RUNNING
from sqlalchemy.exc import SQLAlchemyError

from bots_scheduler.errors import NotFound
from bots_scheduler.executions.lifecycle import Lifecycle, new_execution_id
from bots_scheduler.executions.states import ExecutionState
from bots_scheduler.executions.store import ExecutionStore
from bots_scheduler.scheduling import jobspec
from bots_scheduler.scheduling.jobspec import InvalidJob
from bots_scheduler.scheduling.jobviews import JobViews
from bots_scheduler.scheduling.runner import FIRE
from bots_scheduler.secrets import arguments as secret_args

log = logging.getLogger(__name__)

RUN_NOW_STORE = "runnow"


class JobNotFound(NotFound):
    def __init__(self, job_id: str):
        super().__init__(f"no job with id {job_id!r}")
        self.job_id = job_id


class JobScheduler:
    """``store``: the shared jobs table (a LeaderJobStore); ``executor``: where due runs go;
    ``executions``/``lifecycle``: audit entries and the executions of run-now requests;
    ``views``: the job list read straight from the table; ``secret_names``: the secrets a job
    argument may refer to."""

    def __init__(self, settings, store, executor, registry, executions: ExecutionStore,
                 lifecycle: Lifecycle, views: JobViews, secret_names):
        self.settings = settings
        self.registry = registry
        self.secret_names = secret_names      # () -> the names of the stored secrets
        self.executions = executions
        self.lifecycle = lifecycle
        self.store = store
        self.aps = BackgroundScheduler(
            jobstores={
                "default": self.store,
                RUN_NOW_STORE: MemoryJobStore(),
            },
            executors={"default": executor},
            job_defaults={"coalesce": settings.job_coalesce,
                          "max_instances": settings.job_max_instances,
                          "misfire_grace_time": settings.job_misfire},
            timezone=settings.tzinfo,
        )
        # serialises read-modify-write sequences on one job (PUT racing PATCH...)
        self._lock = threading.RLock()
        self.views = views
        self.secret_positions = secret_positions_of(registry)

    # -- life cycle --------------------------------------------------------------------------
    def start(self, paused: bool = False) -> None:
        self.aps.start(paused=paused)

    def shutdown(self) -> None:
        if self.aps.running:
            self.aps.shutdown(wait=False)

    def wakeup(self) -> None:
        """Look at the job stores again now (the cluster's leader, every couple of seconds)."""
        if self.aps.state == STATE_RUNNING:
            self.aps.wakeup()

    @property
    def running(self) -> bool:
        return self.aps.running

    # -- queries -----------------------------------------------------------------------------
    def view(self, job) -> dict:
        """The API's Job object of an APScheduler job: secret-typed plain values masked.  It
        is what every answer, audit entry, export and execution snapshot shows; the stored
        arguments themselves travel only from the job store to the run."""
        return jobspec.job_view(job, self.secret_positions(job.args[0]))

    def stored_arguments(self, job_id: str) -> list:
        """The job's arguments as stored (plain values unmasked, references unresolved)."""
        job = self.aps.get_job(job_id, jobstore="default")
        if job is None:
            raise JobNotFound(job_id)
        return list(job.args[2:])

    def _visible(self, view: dict) -> bool:
        klass = self.registry.get(view["job_class_string"])
        return klass is None or klass.is_enabled()

    def list_jobs(self) -> list[dict]:
        """The jobs of enabled (or unknown) classes: views shared with a cache, read-only."""
        enabled: dict[str, bool] = {}
        out = []
        for view in self.views.all():
            name = view["job_class_string"]
            visible = enabled.get(name)
            if visible is None:
                visible = enabled[name] = self._visible(view)
            if visible:
                out.append(view)
        return out

    def get_job(self, job_id: str) -> dict:
        return self._load(job_id)[0]

    def _load(self, job_id: str) -> tuple[dict, list]:
        """The job's view and its stored arguments (JobNotFound when unknown or hidden)."""
        job = self.aps.get_job(job_id, jobstore="default")
        if job is None:
            raise JobNotFound(job_id)
        view = self.view(job)
        if not self._visible(view):
            raise JobNotFound(job_id)
        return view, list(job.args[2:])

    # -- changes -----------------------------------------------------------------------------
    def add_job(self, body, user: str, job_id: str | None = None) -> str:
        """Add a job; ``job_id`` keeps a given id (import), else a new one is made."""
        spec = jobspec.parse_job_body(body, self.registry, self.settings.timezone)
        spec["pub_args"] = self.checked_arguments(spec)
        job_id = job_id or _new_id()
        self._audited(job_id, "added", user, lambda: self.aps.add_job(
            FIRE, trigger=spec["trigger"], id=job_id, name=spec["name"],
            args=[spec["job_class_string"], job_id, *spec["pub_args"]],
            kwargs=spec["options"], jobstore="default", replace_existing=False),
            lambda view: (view["name"], _summary(view), view["job_class_string"]))
        return job_id

    def modify_job(self, job_id: str, body, user: str) -> str:
        with self._lock:
            old, stored = self._load(job_id)
            current = dict(old, pub_args=stored,
                           options={k: old.get(k) for k in jobspec.OPTION_FIELDS
                                    if old.get(k) is not None})
            spec = jobspec.parse_job_body(body, self.registry, self.settings.timezone,
                                          current=current)
            spec["pub_args"] = self.checked_arguments(spec, stored)
            changes = {"name": spec["name"],
                       "args": [spec["job_class_string"], job_id, *spec["pub_args"]],
                       "kwargs": spec["options"], "trigger": spec["trigger"]}
            if not old["paused"]:
                changes["next_run_time"] = spec["trigger"].get_next_fire_time(
                    None, datetime.now(spec["trigger"].timezone))
            self._audited(job_id, "modified", user,
                          lambda: self.aps.modify_job(job_id, jobstore="default", **changes),
                          lambda new: (new["name"], _changes(old, new, stored,
                                                             spec["pub_args"]),
                                       new["job_class_string"]))
        return job_id

    def delete_job(self, job_id: str, user: str) -> str:
        with self._lock:
            old = self.get_job(job_id)
            try:
                self._audited(job_id, "deleted", user,
                              lambda: self.aps.remove_job(job_id, jobstore="default"),
                              lambda _gone: (old["name"], _summary(old), old["job_class_string"]))
            except JobLookupError:
                raise JobNotFound(job_id) from None
        return job_id

    def pause_job(self, job_id: str, user: str) -> str:
        return self._pause_or_resume(job_id, user, "paused", self.aps.pause_job)

    def resume_job(self, job_id: str, user: str) -> str:
        return self._pause_or_resume(job_id, user, "resumed", self.aps.resume_job)

    def _pause_or_resume(self, job_id: str, user: str, event: str, change) -> str:
        with self._lock:
            view = self.get_job(job_id)
            self._audited(job_id, event, user, lambda: change(job_id, jobstore="default"),
                          lambda _new: (view["name"], "", view["job_class_string"]))
        return job_id

    def checked_arguments(self, spec: dict, stored: list | None = None) -> list:
        """A new or changed job's ``pub_args``: a mask sent back at a secret-typed position
        keeps the stored value; every ``{"secret": NAME}`` names a stored secret.  InvalidJob
        (400) otherwise."""
        try:
            pub_args = secret_args.unmask(spec["pub_args"], stored,
                                          self.secret_positions(spec["job_class_string"]))
            secret_args.check_references(pub_args, self.secret_names)
        except secret_args.InvalidReference as exc:
            raise InvalidJob(str(exc)) from None
        return pub_args

    def _audited(self, job_id: str, event: str, user: str, change, entry):
        """Make ``change()`` (an APScheduler call) and write its audit entry in the same
        transaction.  ``entry(view)`` -> (job name, description, job class), from the job as
        written (view None when the change removed it)."""
        def write(conn, job):
            view = self.view(job) if job is not None else None
            name, description, job_class = entry(view)
            self.executions.add_log(job_id, name, event, user, description, job_class,
                                    conn=conn)

        with self.store.together(write) as written:
            job = change()
        if not written.done:
            # APScheduler keeps what is added before it starts in memory: nothing was written
            # yet, so the entry is written alone
            write(None, job)

    def run_now(self, job_id: str, user: str) -> str:
        """Queue a run of the job on the executor pool; returns the new execution's id."""
        view, pub_args = self._load(job_id)   # the view shows masks; the run needs the values
        if not self.registry.is_enabled(view["job_class_string"]):
            raise InvalidJob(f"job class {view['job_class_string']!r} cannot be run: it is "
                             f"disabled or cannot be loaded")
        now = datetime.now(timezone.utc)
        with self.executions.transaction() as conn:     # the execution and its audit entry
            eid = self.lifecycle.create(view, ExecutionState.SCHEDULED,
                                        description=f"run now by {user}", scheduled_time=now,
                                        conn=conn)
            # the bare execution id, as ndscheduler writes it: its web UI builds the link of
            # the Logs tab's "Execution ID" column from it
            self.executions.add_log(job_id, view["name"], "custom_run", user, eid,
                                    view["job_class_string"], conn=conn)
        # the run uses this view (JSON, so Celery can carry it) instead of reading the job again
        self.queue_run(view, eid, now, {"job_view": view}, pub_args)
        return eid

    # -- queued runs: run-now and retries ----------------------------------------------------
    def queue_run(self, job: dict, execution_id: str, run_at: datetime, extra: dict,
                  pub_args: list) -> None:
        """Run the recorded execution ``execution_id`` of ``job`` at ``run_at`` (in the
        in-memory store of this instance); ``extra``: more options for the Runner;
        ``pub_args``: the arguments as stored (the job view's are masked)."""
        options = {key: job.get(key) for key in jobspec.OPTION_FIELDS}
        self.aps.add_job(FIRE, trigger="date", run_date=run_at, id=f"run-now-{execution_id}",
                         name=job.get("name", ""), jobstore=RUN_NOW_STORE,
                         args=[job["job_class_string"], job["job_id"], *pub_args],
                         kwargs={**options, "execution_id": execution_id, **extra,
                                 "scheduled_time": run_at.isoformat()},
                         misfire_grace_time=None, max_instances=1)

    def cancel_queued(self, execution_id: str) -> None:
        """Drop a run-now or retry that has not started (its execution was stopped)."""
        try:
            self.aps.remove_job(f"run-now-{execution_id}", jobstore=RUN_NOW_STORE)
        except JobLookupError:
            pass


def _new_id() -> str:
    return new_execution_id()


def _changes(old: dict, new: dict, old_args: list, new_args: list) -> str:
    """The audit entry of a modification, from the masked views; a secret-typed value changed
    behind its mask is named, never shown."""
    text = jobspec.describe_changes(old, new)
    if old["pub_args"] == new["pub_args"] and old_args != new_args:
        hidden = "pub_args: a secret-typed value changed"
        text = hidden if text == "no change" else f"{text}; {hidden}"
    return text


def _summary(view: dict) -> str:
    cron = " ".join(f"{k}={view[k]}" for k in ("month", "week", "day", "day_of_week", "hour",
                                                 "minute", "second") if view.get(k) not in
                    (None, "*") or k == "minute")
    return (f"class {view['job_class_string']}; pub_args {view['pub_args']!r}; "
            f"schedule {cron}; timezone {view['timezone']}")


def secret_positions_of(registry):
    """``positions(job_class_string)``: the argument positions its class declares secret."""
    def positions(job_class_string: str) -> tuple[int, ...]:
        return secret_args.secret_positions(registry.get(job_class_string))
    return positions


def masked_view_of(registry):
    """``view(job)``: the API's Job object of an APScheduler job, secret values masked."""
    positions = secret_positions_of(registry)

    def view(job) -> dict:
        return jobspec.job_view(job, positions(job.args[0]))
    return view


def job_reader(store, view):
    """``read(job_id)``: the job as it is now in ``store`` (a job store) as ``view(job)``
    shows it, or None (unknown, or the datastore cannot say right now).  The Runner's view
    of the jobs table."""
    def read(job_id: str) -> dict | None:
        try:
            job = store.lookup_job(job_id)
        except SQLAlchemyError as exc:
            log.warning("job %s: cannot read it from the datastore (%s)", job_id,
                        str(exc).splitlines()[0])
            return None
        return view(job) if job else None
    return read
