"""Prometheus metrics of one Application, in a registry of its own (never the global one).

Run counts, durations and the scheduler's lag are recorded as runs end (a run listener); jobs by
state, running executions, notification failures and pruned rows are read when scraped.
"""
from __future__ import annotations

import logging
from datetime import timezone

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from sqlalchemy import select

log = logging.getLogger(__name__)

DURATION_BUCKETS = (0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600, 4 * 3600, 24 * 3600)
LAG_BUCKETS = (0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60, 300, 3600)


class Metrics:
    def __init__(self, app):
        self.app = app
        self.registry = CollectorRegistry()
        self.runs = Counter("bots_scheduler_runs", "Runs that ended, by job and state "
                            "(each attempt of a retried run counts)",
                            ["job_id", "job_name", "state"], registry=self.registry)
        self.duration = Histogram("bots_scheduler_run_duration_seconds",
                                  "Time from a run's start to its end", ["job_id"],
                                  buckets=DURATION_BUCKETS, registry=self.registry)
        self.lag = Histogram("bots_scheduler_schedule_lag_seconds",
                             "Delay between a run's due time (scheduled firing, retry, or "
                             "run-now request) and its start", buckets=LAG_BUCKETS,
                             registry=self.registry)
        self.registry.register(_ReadAtScrape(app))

    def on_run_finished(self, outcome) -> None:
        """A run listener (Application.run_listeners)."""
        job = outcome.job or {}
        self.runs.labels(outcome.job_id, job.get("name", ""), outcome.state).inc()
        started, finished = outcome.started_time, outcome.finished_time
        if started and finished:
            self.duration.labels(outcome.job_id).observe(
                max((finished - started).total_seconds(), 0.0))
        due = outcome.scheduled_time or self._scheduled_time(outcome.execution_id)
        if started and due:
            self.lag.observe(max((started - due).total_seconds(), 0.0))

    def _scheduled_time(self, execution_id: str):
        """When the run was due: the firing's time, a retry's, or when run-now was asked."""
        table = self.app.datastore.tables.executions
        with self.app.datastore.engine.connect() as conn:
            moment = conn.execute(select(table.c.scheduled_time)
                                  .where(table.c.eid == execution_id)).scalar()
        return moment.replace(tzinfo=timezone.utc) if moment else None

    def exposition(self) -> bytes:
        """The text format; reads the job store, so call it off the event loop."""
        return generate_latest(self.registry)


class _ReadAtScrape:
    """Values that live elsewhere: read them when Prometheus asks."""

    def __init__(self, app):
        self.app = app

    def collect(self):
        app = self.app
        jobs = GaugeMetricFamily("bots_scheduler_jobs", "Jobs by state", labels=["state"])
        try:
            listed = app.scheduler.list_jobs()
            paused = sum(1 for job in listed if job.get("paused"))
            jobs.add_metric(["active"], len(listed) - paused)
            jobs.add_metric(["paused"], paused)
            up = 1
        except Exception as exc:     # the datastore is down: say so instead of failing
            log.warning("metrics: cannot list jobs: %s", str(exc).splitlines()[0])
            up = 0
        yield jobs
        yield GaugeMetricFamily("bots_scheduler_datastore_up",
                                "1 when the job store answered this scrape", value=up)
        yield GaugeMetricFamily("bots_scheduler_executions_running",
                                "Executions running in this process",
                                value=len(app.runner.active()))
        failures = CounterMetricFamily("bots_scheduler_notification_failures",
                                       "Notifications given up after their last attempt, by "
                                       "SMTP profile", labels=["profile"])
        for profile, count in sorted(getattr(app.notifier, "failures", {}).items()):
            failures.add_metric([profile], count)
        yield failures
        retention = getattr(app, "retention", None)
        if retention is not None:
            pruned = CounterMetricFamily("bots_scheduler_pruned_rows",
                                         "Rows deleted by retention since start-up",
                                         labels=["table"])
            for kind, count in sorted(retention.pruned.items()):
                pruned.add_metric([kind], count)
            yield pruned
