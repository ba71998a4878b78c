"""The scheduling core: APScheduler 3 with the jobs in the configured database.

``JobScheduler`` is what the REST API talks to: it validates job definitions, keeps the audit log
in step with every change, and queues run-now requests and retries on the same executor as
scheduled runs.  It gets its job store and executor built (app.py): the job store sees due jobs
only while this scheduler leads the cluster, the executor hands runs to the Runner.
"""
from __future__ import annotations

import logging
import threading
from datetime import datetime, timedelta, timezone

from apscheduler.jobstores.base import JobLookupError
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import STATE_RUNNING
from sqlalchemy.exc import SQLAlchemyError

from bots_scheduler.executions.lifecycle import Lifecycle, new_execution_id
from bots_scheduler.executions.states import ExecutionState
from bots_scheduler.executions.store import ExecutionStore
from bots_scheduler.scheduling import jobspec
from bots_scheduler.scheduling.jobspec import InvalidJob
from bots_scheduler.scheduling.jobviews import JobViews
from bots_scheduler.scheduling.runner import FIRE

log = logging.getLogger(__name__)

RUN_NOW_STORE = "runnow"


class JobNotFound(LookupError):
    pass


class JobScheduler:
    """``store``: the shared jobs table (a LeaderJobStore); ``executor``: where due runs go;
    ``executions``/``lifecycle``: audit entries and the executions of run-now requests."""

    def __init__(self, settings, store, executor, registry, executions: ExecutionStore,
                 lifecycle: Lifecycle, views: JobViews):
        self.settings = settings
        self.registry = registry
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
        job = self.aps.get_job(job_id, jobstore="default")
        if job is None:
            raise JobNotFound(job_id)
        view = jobspec.job_view(job)
        if not self._visible(view):
            raise JobNotFound(job_id)
        return view

    # -- changes -----------------------------------------------------------------------------
    def add_job(self, body, user: str, job_id: str | None = None) -> str:
        """Add a job; ``job_id`` keeps a given id (import), else a new one is made."""
        spec = jobspec.parse_job_body(body, self.registry, self.settings.timezone)
        job_id = job_id or _new_id()
        self._audited(job_id, "added", user, lambda: self.aps.add_job(
            FIRE, trigger=spec["trigger"], id=job_id, name=spec["name"],
            args=[spec["job_class_string"], job_id, *spec["pub_args"]],
            kwargs=spec["options"], jobstore="default", replace_existing=False),
            lambda view: (view["name"], _summary(view), view["job_class_string"]))
        return job_id

    def modify_job(self, job_id: str, body, user: str) -> str:
        with self._lock:
            old = self.get_job(job_id)
            current = dict(old, options={k: old.get(k) for k in jobspec.OPTION_FIELDS
                                         if old.get(k) is not None})
            spec = jobspec.parse_job_body(body, self.registry, self.settings.timezone,
                                          current=current)
            changes = {"name": spec["name"],
                       "args": [spec["job_class_string"], job_id, *spec["pub_args"]],
                       "kwargs": spec["options"], "trigger": spec["trigger"]}
            if not old["paused"]:
                changes["next_run_time"] = spec["trigger"].get_next_fire_time(
                    None, datetime.now(spec["trigger"].timezone))
            self._audited(job_id, "modified", user,
                          lambda: self.aps.modify_job(job_id, jobstore="default", **changes),
                          lambda new: (new["name"], jobspec.describe_changes(old, new),
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

    def _audited(self, job_id: str, event: str, user: str, change, entry):
        """Make ``change()`` (an APScheduler call) and write its audit entry in the same
        transaction.  ``entry(view)`` -> (job name, description, job class), from the job as
        written (view None when the change removed it)."""
        def write(conn, job):
            view = jobspec.job_view(job) if job is not None else None
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
        view = self.get_job(job_id)
        if not self.registry.is_enabled(view["job_class_string"]):
            raise InvalidJob(f"job class {view['job_class_string']!r} cannot be run: it is "
                             f"disabled or cannot be loaded")
        now = datetime.now(timezone.utc)
        with self.executions.transaction() as conn:     # the execution and its audit entry
            eid = self.lifecycle.create(view, ExecutionState.SCHEDULED,
                                        description=f"run now by {user}", scheduled_time=now,
                                        conn=conn)
            self.executions.add_log(job_id, view["name"], "custom_run", user,
                                    f"execution {eid}", view["job_class_string"], conn=conn)
        # the run uses this view (JSON, so Celery can carry it) instead of reading the job again
        self.queue_run(view, eid, now, {"job_view": view})
        return eid

    # -- queued runs: run-now and retries ----------------------------------------------------
    def queue_run(self, job: dict, execution_id: str, run_at: datetime, extra: dict) -> None:
        """Run the recorded execution ``execution_id`` of ``job`` at ``run_at`` (in the
        in-memory store of this instance); ``extra``: more options for the Runner."""
        options = {key: job.get(key) for key in jobspec.OPTION_FIELDS}
        self.aps.add_job(FIRE, trigger="date", run_date=run_at, id=f"run-now-{execution_id}",
                         name=job.get("name", ""), jobstore=RUN_NOW_STORE,
                         args=[job["job_class_string"], job["job_id"],
                               *job.get("pub_args", [])],
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


def _summary(view: dict) -> str:
    cron = " ".join(f"{k}={view[k]}" for k in ("month", "week", "day", "day_of_week", "hour",
                                                 "minute", "second") if view.get(k) not in
                    (None, "*") or k == "minute")
    return (f"class {view['job_class_string']}; pub_args {view['pub_args']!r}; "
            f"schedule {cron}; timezone {view['timezone']}")


def job_reader(store):
    """``read(job_id)``: the job as it is now in ``store`` (a job store), or None (unknown, or
    the datastore cannot say right now).  The Runner's view of the jobs table."""
    def read(job_id: str) -> dict | None:
        try:
            job = store.lookup_job(job_id)
        except SQLAlchemyError as exc:
            log.warning("job %s: cannot read it from the datastore (%s)", job_id,
                        str(exc).splitlines()[0])
            return None
        return jobspec.job_view(job) if job else None
    return read
