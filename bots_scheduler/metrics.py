"""Prometheus metrics of one Application, in a registry of its own (never the global one).

Run counts, durations and the scheduler's lag are recorded as runs end (the "metrics" post-run
step); jobs by state, running executions, notification failures and pruned rows are read from
the functions given when scraped.
"""
from __future__ import annotations

import logging
from collections.abc import Callable

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

log = logging.getLogger(__name__)

DURATION_BUCKETS = (0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600, 4 * 3600, 24 * 3600)
LAG_BUCKETS = (0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60, 300, 3600)


class Metrics:
    """``list_jobs()``: the job views; ``active_runs()``: executions running in this process;
    ``notification_failures()``: {profile: count}; ``pruned()``: {table kind: rows deleted};
    ``alert_failures()``: {alert profile: deliveries not taken by every URL}."""

    def __init__(self, list_jobs: Callable[[], list], active_runs: Callable[[], list],
                 notification_failures: Callable[[], dict], pruned: Callable[[], dict],
                 alert_failures: Callable[[], dict] = dict):
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
        self.registry.register(_ReadAtScrape(list_jobs, active_runs, notification_failures,
                                             pruned, alert_failures))

    def on_run_finished(self, run) -> None:
        """The "metrics" post-run step."""
        job = run.job or {}
        self.runs.labels(run.job_id, job.get("name", ""), run.state.value).inc()
        started, finished = run.started_time, run.finished_time
        if started and finished:
            self.duration.labels(run.job_id).observe(
                max((finished - started).total_seconds(), 0.0))
        # when the run was due: the firing's time, a retry's, or when run-now was asked; a run
        # started directly was due when it started
        due = run.scheduled_time or started
        if started and due:
            self.lag.observe(max((started - due).total_seconds(), 0.0))

    def exposition(self) -> bytes:
        """The text format; reads the job store, so call it off the event loop."""
        return generate_latest(self.registry)


class _ReadAtScrape:
    """Values that live elsewhere: read them when Prometheus asks."""

    def __init__(self, list_jobs, active_runs, notification_failures, pruned, alert_failures):
        self.list_jobs, self.active_runs = list_jobs, active_runs
        self.notification_failures, self.pruned = notification_failures, pruned
        self.alert_failures = alert_failures

    def collect(self):
        jobs = GaugeMetricFamily("bots_scheduler_jobs", "Jobs by state", labels=["state"])
        try:
            listed = self.list_jobs()
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
                                value=len(self.active_runs()))
        failures = CounterMetricFamily("bots_scheduler_notification_failures",
                                       "Notifications given up after their last attempt, by "
                                       "SMTP profile", labels=["profile"])
        for profile, count in sorted(self.notification_failures().items()):
            failures.add_metric([profile], count)
        yield failures
        alerts = CounterMetricFamily("bots_scheduler_alert_failures",
                                     "Alerts not taken by every URL of their profile after the "
                                     "last attempt, by alert profile", labels=["profile"])
        for profile, count in sorted(self.alert_failures().items()):
            alerts.add_metric([profile], count)
        yield alerts
        pruned = CounterMetricFamily("bots_scheduler_pruned_rows",
                                     "Rows deleted by retention since start-up",
                                     labels=["table"])
        for kind, count in sorted(self.pruned().items()):
            pruned.add_metric([kind], count)
        yield pruned
