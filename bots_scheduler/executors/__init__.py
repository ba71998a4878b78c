"""Where due jobs run: in this process's threads, or on Celery workers (``run --executor``)."""
from __future__ import annotations


def make_executor(settings, lifecycle, registry, may_fire, view, runner, wakeup=None):
    """The APScheduler executor chosen by ``--executor`` (executors/base.py says what the
    collaborators are for)."""
    if settings.executor == "celery":
        from bots_scheduler.executors.celery_executor import CeleryExecutor
        return CeleryExecutor(lifecycle, registry, may_fire, view, settings.broker, wakeup)
    from bots_scheduler.executors.threads import ThreadsExecutor
    return ThreadsExecutor(lifecycle, registry, may_fire, view, runner,
                           settings.threadpool_size, wakeup)
