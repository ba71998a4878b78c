"""``bots-scheduler worker``: a Celery worker that runs what schedulers started with
``--executor celery`` send it, with the same job folders, datastore and SMTP profiles.

It keeps a node row fresh (GET /api/v1/cluster lists it; a worker that stops refreshing it is
dead and the leader fails its runs).  Runs use threads (``-c``), like the scheduler's own pool,
so that a run's stop signal and the node's heartbeat live in the process that runs it.
"""
from __future__ import annotations

import logging
import threading

from bots_scheduler.private_files import private_folder
from bots_scheduler.app import Application
from bots_scheduler.executors.celery_app import check_broker, make_celery
from bots_scheduler.executors.tasks import register_tasks
from bots_scheduler.settings import Settings

log = logging.getLogger(__name__)

SHUTDOWN_GRACE = 10.0


class WorkerService:
    def __init__(self, settings: Settings):
        self.settings = settings

    def serve(self) -> int:
        settings = self.settings
        check_broker(settings.broker)
        app = Application(settings, role="worker")
        # DatastoreUnavailable: one line and exit 2 (cli/main.py)
        private_folder(settings.data_dir)
        app.datastore.check()
        app.secrets.check_key()     # it resolves the runs' secrets: the same key is needed
        app.datastore.create_tables()
        app.findings.create_tables()
        app.cluster.create_tables()
        app.secrets.create_table()
        warn_missing_files(app)
        celery = make_celery(settings.broker)
        register_tasks(celery, app.runner)
        app.start()      # runner, notifier, APScheduler (retries), node row
        name = app.cluster.membership.name
        worker = celery.Worker(pool_cls="threads", concurrency=settings.threadpool_size,
                               hostname=name, loglevel="DEBUG" if settings.debug else "INFO",
                               without_mingle=True, without_gossip=True,
                               without_heartbeat=True, quiet=True, optimization="fair")
        from celery.signals import worker_ready, worker_shutting_down
        worker_ready.connect(lambda **_kw: print(f"Bots Scheduler worker {name} is running "
                                                 f"(pid {app.runner.pid})", flush=True),
                             weak=False)
        # ask running jobs to stop at once; Celery's warm shutdown then waits for them
        worker_shutting_down.connect(lambda **_kw: _ask_to_stop(app), weak=False)
        try:
            worker.start()
        finally:
            app.stop(SHUTDOWN_GRACE)
        return worker.exitcode or 0


def _ask_to_stop(app) -> None:
    threading.Thread(target=app.runner.stop_all, args=(SHUTDOWN_GRACE,), daemon=True).start()


def warn_missing_files(app) -> None:
    """Data files reach workers through a shared data folder (docs/cluster.md): say so when
    this worker's folder lacks files the datastore lists."""
    missing = app.data_files.missing()
    if missing:
        log.warning("%d data file(s) listed in the datastore are missing from this worker's "
                    "data folder %s (e.g. %s): runs using them will fail; mount the "
                    "schedulers' data folder here (see docs/cluster.md)",
                    len(missing), app.data_files.root, missing[0])
