"""The Application: the composition root.  Every part of a running Bots Scheduler is built here,
once, from the Settings, and given the collaborators it uses; no part reaches into another
through the Application.

How a firing becomes a report and an e-mail, in the order of the wiring below: the job store
(seen only by the cluster's leader) makes APScheduler fire; the executor records the firing's
execution and hands it to the Runner; the Runner resolves the arguments, runs the job and
turns what happened into an Outcome; the post-run steps then detect changes, record the
outcome (rendering the report once), record its findings, queue a retry, count it, send the
e-mails and send the alerts.
"""
from __future__ import annotations

import gc
import getpass
import logging
import os
import socket

from bots_scheduler.private_files import private_folder
from bots_scheduler.access.tokens import TokenStore
from bots_scheduler.alerts.profiles import load_alert_config
from bots_scheduler.alerts.sender import AlertSender
from bots_scheduler.cluster.coordinator import Coordinator
from bots_scheduler.cluster.jobstore import LeaderJobStore
from bots_scheduler.cluster.tables import make_cluster_tables
from bots_scheduler.datafiles.storage import DataFiles
from bots_scheduler.datastore.store import Datastore
from bots_scheduler.findings.recording import FindingRecorder
from bots_scheduler.findings.store import FindingStore
from bots_scheduler.executions.lifecycle import Lifecycle
from bots_scheduler.executions.retries import Retries
from bots_scheduler.executions.runner import Runner
from bots_scheduler.executions.states import ExecutionState
from bots_scheduler.executions.steps import (RECORD, PostRunSteps, SecretArguments,
                                             resolve_data_files)
from bots_scheduler.executions.stop import StopRequests
from bots_scheduler.executions.store import ExecutionStore
from bots_scheduler.executors import make_executor
from bots_scheduler.jobs.loader import JobRegistry
from bots_scheduler.metrics import Metrics
from bots_scheduler.notifications.notifier import Notifier
from bots_scheduler.retention import Retention
from bots_scheduler.scheduling.jobviews import JobViews
from bots_scheduler.scheduling.wakeup import Wakeup
from bots_scheduler.scheduling.scheduler import (JobScheduler, job_reader, masked_view_of,
                                                 secret_positions_of)
from bots_scheduler.secrets import arguments as secret_args
from bots_scheduler.secrets.store import SecretStore
from bots_scheduler.settings import Settings

log = logging.getLogger(__name__)

CRASH_REASON = ("the server stopped unexpectedly (crash or kill) while this execution was "
                "active; marked failed at the next start")


class Application:
    def __init__(self, settings: Settings, proxy_secret: str | None = None,
                 role: str = "scheduler"):
        self.settings = settings
        self.proxy_secret = proxy_secret
        self.local_user = _local_user()
        database = settings.database
        pool = settings.threadpool_size + settings.max_workers + 2
        self.datastore = Datastore(database, pool_size=pool)
        engine = self.datastore.engine
        cluster_tables = make_cluster_tables(database.jobs_table)
        self.registry = JobRegistry.discover(settings.jobs_dirs)
        self.secrets = SecretStore(engine, database.jobs_table)
        self.tokens = TokenStore(engine, database.jobs_table)
        self.findings = FindingStore(engine, database.findings_table)

        # executions: their rows, and the one owner of their states
        self.executions = ExecutionStore(engine, self.datastore.tables, cluster_tables.firings)
        self.lifecycle = Lifecycle(self.executions,
                                   getattr(settings, "hostname", "") or socket.gethostname(),
                                   os.getpid())
        self.data_files = DataFiles(settings.data_dir, self.datastore, settings.max_file_size,
                                    audit=self.executions)

        # the cluster: a scheduler, or a Celery worker
        self.cluster = Coordinator(engine, cluster_tables, self.lifecycle, role,
                                   **_node_description(settings, role),
                                   queue_limit=settings.job_misfire,
                                   executor=settings.executor,
                                   broker=_shown_broker(settings.broker))

        # scheduling: the jobs table, the runner, the executor, APScheduler.  Job views (API
        # answers, execution snapshots) show secret-typed arguments masked; the stored
        # arguments travel only from the job store to the run.
        secret_positions = secret_positions_of(self.registry)
        view = masked_view_of(self.registry)
        # one transaction for the firings of a wake-up and the jobs' next run times
        wakeup = Wakeup(self.executions, self.lifecycle, self.cluster.may_fire)
        job_store = LeaderJobStore(self.cluster.may_fire, wakeup, engine=engine,
                                   tablename=database.jobs_table)
        self.steps = PostRunSteps()
        self.runner = Runner(
            self.lifecycle, self.registry, data_dir=settings.data_dir,
            job_timeout=settings.job_timeout, job_lookup=job_reader(job_store, view),
            steps=self.steps,
            resolvers=[SecretArguments(self.secrets), resolve_data_files],
            shown_arguments=lambda class_string, args: secret_args.mask(
                args, secret_positions(class_string)))
        executor = make_executor(settings, self.lifecycle, self.registry, self.cluster.may_fire,
                                 view, self.runner, wakeup)
        self.scheduler = JobScheduler(settings, job_store, executor, self.registry,
                                      self.executions, self.lifecycle,
                                      JobViews(engine, database.jobs_table, secret_positions),
                                      self.secrets.names)
        self.stops = StopRequests(self.executions, self.lifecycle,
                                  self.registry.disabled_names, self.runner.request_stop,
                                  self.scheduler.cancel_queued)

        # after a run, in this order (executions/steps.py)
        self.notifier = Notifier.from_settings(settings, self.executions)
        self.finding_recorder = FindingRecorder(self.findings)
        self.alerts = AlertSender(load_alert_config(settings.alert_config,
                                                    settings.alert_profiles), self.executions,
                                  secrets=self.secrets.value)
        self.retention = Retention(self.executions, settings.retention_days, settings.keep_runs,
                                   findings=self.findings)
        self.metrics = Metrics(self.scheduler.list_jobs, self.runner.active,
                               lambda: self.notifier.failures, lambda: self.retention.pruned,
                               lambda: self.alerts.failures)
        self.steps.append("changes", self.notifier.detect_changes)
        self.steps.append(RECORD, self.lifecycle.record)
        # after the row is final, before the e-mail and the alerts that read what it recorded
        self.steps.append("findings", self.finding_recorder.on_run_finished)
        self.steps.append("retry", Retries(self.lifecycle, self.scheduler.queue_run))
        self.steps.append("metrics", self.metrics.on_run_finished)
        self.steps.append("notify", self.notifier.on_run_finished)
        self.steps.append("alerts", self.alerts.on_run_finished)

    def prepare(self) -> None:
        """Check the datastore, create missing tables, recover from a crash (before serving)."""
        self.datastore.check()
        # stored secrets that this process cannot open: stop before anything changes
        self.secrets.check_key()
        private_folder(self.settings.data_dir)
        self.datastore.create_tables()
        self.secrets.create_table()
        self.tokens.create_table()
        self.findings.create_tables()
        self.cluster.create_tables()
        self.data_files.synchronise(self.local_user)   # hand-copied or removed files
        # only executions of processes that are gone: other schedulers may share the datastore
        failed = self.cluster.recover(CRASH_REASON)
        if failed:
            log.warning("%d execution(s) left active by the previous run marked failed", failed)
        log.info("job classes: %s", ", ".join(sorted(self.registry.classes)) or "none")

    def start(self) -> None:
        freeze_startup_objects()
        self.notifier.start()
        self.alerts.start()
        self.scheduler.start()
        self.retention.start()
        self.cluster.start(wakeup=self.scheduler.wakeup)

    def stop(self, grace: float = 10.0) -> None:
        """Stop firing, give running executions ``grace`` seconds, record the rest as stopped."""
        self.scheduler.shutdown()
        self.retention.stop()
        self.cluster.retire()      # another scheduler may take over the firing at once
        left = self.runner.stop_all(grace)
        if left:
            self.lifecycle.abandon(
                left, f"stopped: the server shut down while this execution was running "
                      f"(after a {grace:g} s grace period)", ExecutionState.STOPPED)
            log.warning("%d execution(s) still running after %gs recorded as stopped",
                        len(left), grace)
        self.notifier.stop()
        self.alerts.stop()
        self.cluster.stop()
        self.datastore.dispose()


def freeze_startup_objects() -> None:
    """Put what start-up made (modules, tables, compiled statements, job classes) out of the
    cyclic garbage collector's sight (``gc.freeze``): it is never garbage, yet every full
    collection walked it, holding the GIL.  At 250 firings a second the collector took 18% of
    the scheduler thread's time and the p99 lag from firing to start went from 0.80 s to
    0.97 s (bench/README.md).  Objects made later are collected as before."""
    gc.collect()
    gc.freeze()


def _node_description(settings: Settings, role: str) -> dict:
    """How this process appears in the cluster view (GET /api/v1/cluster)."""
    if role == "scheduler":
        return {"address": f"127.0.0.1:{settings.scheduler_port}",
                "detail": f"executor {settings.executor}"}
    return {"name": settings.extra.get("worker_name", ""),
            "address": _shown_broker(settings.broker),
            "detail": f"concurrency {settings.threadpool_size}"}


def _shown_broker(url: str | None) -> str:
    if not url:
        return ""
    from bots_scheduler.executors.celery_app import describe_broker
    return describe_broker(url)


def _local_user() -> str:
    try:
        return getpass.getuser()
    except Exception:   # no passwd entry for this uid in a container
        return "local"
