"""The scheduling core: APScheduler 3 with the jobs in the configured database.

``JobScheduler`` is what the REST API talks to: it validates job definitions, keeps the audit log
in step with every change, and hands run-now requests to the same thread pool as scheduled runs.
"""
from __future__ import annotations

import logging
import threading
from datetime import datetime, timedelta, timezone

from apscheduler.jobstores.base import JobLookupError
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy.exc import SQLAlchemyError

from bots_scheduler.cluster.jobstore import LeaderJobStore
from bots_scheduler.errors import NotFound
from bots_scheduler.executors import make_executor
from bots_scheduler.scheduling import jobspec
from bots_scheduler.scheduling.jobspec import InvalidJob
from bots_scheduler.scheduling.jobviews import JobViews
from bots_scheduler.secrets import arguments as secret_args

log = logging.getLogger(__name__)

FIRE = "bots_scheduler.scheduling.runner:fire"
RUN_NOW_STORE = "runnow"
DEFAULT_RETRY_DELAY = 60.0      # seconds before another attempt, unless the job says


class JobNotFound(NotFound):
    def __init__(self, job_id: str):
        super().__init__(f"no job with id {job_id!r}")
        self.job_id = job_id


class JobScheduler:
    def __init__(self, app):
        self.app = app
        settings = app.settings
        # only the leader of the cluster sees its due jobs (cluster/jobstore.py)
        self.store = LeaderJobStore(self._may_fire, engine=app.datastore.engine,
                                    tablename=settings.database.jobs_table)
        self.aps = BackgroundScheduler(
            jobstores={
                "default": self.store,
                RUN_NOW_STORE: MemoryJobStore(),
            },
            executors={"default": make_executor(app)},
            job_defaults={"coalesce": settings.job_coalesce,
                          "max_instances": settings.job_max_instances,
                          "misfire_grace_time": settings.job_misfire},
            timezone=settings.tzinfo,
        )
        # serialises read-modify-write sequences on one job (PUT racing PATCH...)
        self._lock = threading.RLock()
        self.views = JobViews(app.datastore.engine, settings.database.jobs_table,
                              self.secret_positions)

    # -- life cycle --------------------------------------------------------------------------
    def _may_fire(self) -> bool:
        cluster = getattr(self.app, "cluster", None)
        return cluster is None or cluster.may_fire()

    def start(self, paused: bool = False) -> None:
        self.aps.start(paused=paused)

    def shutdown(self) -> None:
        if self.aps.running:
            self.aps.shutdown(wait=False)

    @property
    def running(self) -> bool:
        return self.aps.running

    # -- queries -----------------------------------------------------------------------------
    def secret_positions(self, job_class_string: str) -> tuple[int, ...]:
        return secret_args.secret_positions(self.app.registry.get(job_class_string))

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
        klass = self.app.registry.get(view["job_class_string"])
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

    def job_snapshot(self, job_id: str) -> dict | None:
        """The job as it is now, or None (unknown, or the datastore cannot say right now)."""
        try:
            job = self.aps.get_job(job_id, jobstore="default")
        except SQLAlchemyError as exc:
            log.warning("job %s: cannot read it from the datastore (%s)", job_id,
                        str(exc).splitlines()[0])
            return None
        return self.view(job) if job else None

    # -- changes -----------------------------------------------------------------------------
    def add_job(self, body, user: str, job_id: str | None = None) -> str:
        """Add a job; ``job_id`` keeps a given id (import), else a new one is made."""
        spec = jobspec.parse_job_body(body, self.app.registry, self.app.settings.timezone)
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
            spec = jobspec.parse_job_body(body, self.app.registry, self.app.settings.timezone,
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
            secret_args.check_references(pub_args, self.app.secrets.names)
        except secret_args.InvalidReference as exc:
            raise InvalidJob(str(exc)) from None
        return pub_args

    def _audited(self, job_id: str, event: str, user: str, change, entry):
        """Make ``change()`` (an APScheduler call) and write its audit entry in the same
        transaction.  ``entry(view)`` -> (job name, description, job class), from the job as
        written (view None when the change removed it)."""
        datastore = self.app.datastore

        def write(conn, job):
            view = self.view(job) if job is not None else None
            name, description, job_class = entry(view)
            datastore.add_log(job_id, name, event, user, description, job_class, conn=conn)

        with self.store.together(write) as written:
            job = change()
        if not written.done:
            # APScheduler keeps what is added before it starts in memory: nothing was written
            # yet, so the entry is written alone
            write(None, job)

    def run_now(self, job_id: str, user: str) -> str:
        """Queue a run of the job on the executor pool; returns the new execution's id."""
        view, pub_args = self._load(job_id)   # the view shows masks; the run needs the values
        if not self.app.registry.is_enabled(view["job_class_string"]):
            raise InvalidJob(f"job class {view['job_class_string']!r} cannot be run: it is "
                             f"disabled or cannot be loaded")
        runner, datastore = self.app.runner, self.app.datastore
        eid, now = _new_id(), datetime.now(timezone.utc)
        with datastore.engine.begin() as conn:     # the execution and its audit entry at once
            datastore.add_execution(eid, view, "scheduled", now,
                                    description=f"run now by {user}", hostname=runner.hostname,
                                    pid=runner.pid, conn=conn)
            # the bare execution id, as ndscheduler writes it: its web UI builds the link of
            # the Logs tab's "Execution ID" column from it
            datastore.add_log(job_id, view["name"], "custom_run", user, eid,
                              view["job_class_string"], conn=conn)
        options = {key: view.get(key) for key in jobspec.OPTION_FIELDS}
        # the run uses this view (JSON, so Celery can carry it) instead of reading the job again
        self.aps.add_job(FIRE, trigger="date", run_date=now,
                         id=f"run-now-{eid}", name=view["name"], jobstore=RUN_NOW_STORE,
                         args=[view["job_class_string"], job_id, *pub_args],
                         kwargs={**options, "execution_id": eid, "job_view": view,
                                 "scheduled_time": now.isoformat()},
                         misfire_grace_time=None, max_instances=1)
        return eid


    # -- retries and stops (issue 9) -----------------------------------------------------------
    def schedule_retry(self, job: dict, first_eid: str, attempt: int,
                       pub_args: list | None = None) -> bool:
        """Queue attempt number ``attempt`` of a failed run after the job's ``retry_delay``;
        ``pub_args``: the arguments the run had (the job view's are masked)."""
        if pub_args is None:
            pub_args = job.get("pub_args", [])
        delay = job.get("retry_delay")
        delay = DEFAULT_RETRY_DELAY if delay is None else float(delay)
        run_at = datetime.now(timezone.utc) + timedelta(seconds=delay)
        try:
            eid = self.app.runner.new_execution(
                job, "scheduled", f"attempt {attempt} (retry of execution {first_eid})",
                scheduled_time=run_at, attempt=attempt, first_eid=first_eid)
            options = {key: job.get(key) for key in jobspec.OPTION_FIELDS}
            self.aps.add_job(FIRE, trigger="date", run_date=run_at, id=f"run-now-{eid}",
                             name=job.get("name", ""), jobstore=RUN_NOW_STORE,
                             args=[job["job_class_string"], job["job_id"], *pub_args],
                             kwargs={**options, "execution_id": eid, "attempt": attempt,
                                     "first_eid": first_eid, "scheduled_time": run_at.isoformat()},
                             misfire_grace_time=None, max_instances=1)
        except Exception:
            log.exception("job %s: attempt %d could not be scheduled", job.get("job_id"), attempt)
            return False
        log.info("job %s: attempt %d in %g s (first execution %s)", job.get("job_id"), attempt,
                 delay, first_eid)
        return True

    def cancel_queued(self, execution_id: str) -> None:
        """Drop a run-now or retry that has not started (its execution was stopped)."""
        try:
            self.aps.remove_job(f"run-now-{execution_id}", jobstore=RUN_NOW_STORE)
        except JobLookupError:
            pass


def _new_id() -> str:
    import uuid
    return uuid.uuid4().hex


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
