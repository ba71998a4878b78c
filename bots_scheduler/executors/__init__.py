"""Where due jobs run: in this process's threads, or on Celery workers (``run --executor``)."""
from __future__ import annotations


def make_executor(app):
    """The APScheduler executor chosen by ``--executor``."""
    if app.settings.executor == "celery":
        from bots_scheduler.executors.celery_executor import CeleryExecutor
        return CeleryExecutor(app)
    from bots_scheduler.executors.threads import ThreadsExecutor
    return ThreadsExecutor(app)
