"""The Application: the parts of a running Bots Scheduler, built once from the Settings."""
from __future__ import annotations

import getpass
import logging
from typing import Callable

from bots_scheduler.private_files import private_folder
from bots_scheduler.access.tokens import TokenStore
from bots_scheduler.alerts.profiles import load_alert_config
from bots_scheduler.alerts.sender import AlertSender
from bots_scheduler.cluster.coordinator import Coordinator
from bots_scheduler.datafiles.storage import DataFiles
from bots_scheduler.datastore.store import Datastore
from bots_scheduler.findings.recording import FindingRecorder
from bots_scheduler.findings.store import FindingStore
from bots_scheduler.jobs.loader import JobRegistry
from bots_scheduler.metrics import Metrics
from bots_scheduler.notifications.notifier import Notifier
from bots_scheduler.retention import Retention
from bots_scheduler.scheduling.runner import Runner, RunOutcome
from bots_scheduler.scheduling.scheduler import JobScheduler
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
        pool = settings.threadpool_size + settings.max_workers + 2
        self.datastore = Datastore(settings.database, pool_size=pool)
        self.findings = FindingStore(self.datastore.engine, settings.database.findings_table)
        self.registry = JobRegistry.discover(settings.jobs_dirs)
        self.secrets = SecretStore(self.datastore.engine, settings.database.jobs_table)
        self.tokens = TokenStore(self.datastore.engine, settings.database.jobs_table)
        self.data_files = DataFiles(settings.data_dir, self.datastore, settings.max_file_size)
        self.runner = Runner(self)
        self.scheduler = JobScheduler(self)
        self.cluster = Coordinator(self, role)     # a scheduler, or a Celery worker
        self.run_listeners: list[Callable[[RunOutcome], None]] = []
        # first: the steps after it (e-mail, alerts) read what it recorded
        self.finding_recorder = FindingRecorder(self.findings)
        self.run_listeners.append(self.finding_recorder.on_run_finished)
        self.notifier = Notifier.from_settings(settings, self.datastore)
        self.run_listeners.append(self.notifier.on_run_finished)
        self.alerts = AlertSender(load_alert_config(settings.alert_config,
                                                    settings.alert_profiles), self.datastore,
                                  secrets=self.secrets.value)
        self.run_listeners.append(self.alerts.on_run_finished)
        self.metrics = Metrics(self)
        self.run_listeners.append(self.metrics.on_run_finished)
        self.retention = Retention(self.datastore, settings.retention_days, settings.keep_runs,
                                   findings=self.findings)

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
        self.runner.install()
        self.notifier.start()
        self.alerts.start()
        self.scheduler.start()
        self.retention.start()
        self.cluster.start()

    def stop(self, grace: float = 10.0) -> None:
        """Stop firing, give running executions ``grace`` seconds, record the rest as stopped."""
        self.scheduler.shutdown()
        self.retention.stop()
        self.cluster.retire()      # another scheduler may take over the firing at once
        left = self.runner.stop_all(grace)
        if left:
            self.datastore.fail_unfinished(
                f"stopped: the server shut down while this execution was running "
                f"(after a {grace:g} s grace period)", new_state="stopped", eids=left)
            log.warning("%d execution(s) still running after %gs recorded as stopped",
                        len(left), grace)
        self.notifier.stop()
        self.alerts.stop()
        self.cluster.stop()
        self.datastore.dispose()


def _local_user() -> str:
    try:
        return getpass.getuser()
    except Exception:   # no passwd entry for this uid in a container
        return "local"
