"""The AlertSender: after each run, decides which profiles to tell and sends off the run's
critical path, with retries; the outcome per profile goes to the execution's ``alerts``.

``on_run_finished`` is the last post-run step, after the findings recorder (it reads
``run.findings``) and the retry step (it alerts on the last attempt only).  It decides quickly
in the job's thread and queues one delivery per profile; each profile has its own thread
(named ``alert-…``, whose library log lines are dropped: they hold URLs), so a receiver that
hangs or refuses delays neither the run nor the other profiles.  A URL whose delivery fails is
tried again after each of ``retry_delays``.
"""
from __future__ import annotations

import json
import logging
import threading
import time
from dataclasses import dataclass, replace
from datetime import datetime, timezone

import apprise

from bots_scheduler.alerts.messages import AlertMessage, build_message
from bots_scheduler.alerts.policy import streak_of, triggered
from bots_scheduler.alerts.profiles import EMPTY, AlertConfig, AlertProfile
from bots_scheduler.alerts.urls import THREAD_PREFIX, UnknownSecret, service, service_name
from bots_scheduler.executions.outcome import FinishedRun
from bots_scheduler.findings.store import Recorded
from bots_scheduler.notifications.workers import ProfileWorkers

log = logging.getLogger(__name__)

RETRY_DELAYS = (5.0, 15.0)      # two retries, both within 60 s even of a hanging receiver


@dataclass
class AlertDelivery:
    execution_id: str | None
    job_name: str
    events: tuple[str, ...]
    message: AlertMessage


@dataclass(frozen=True)
class UrlOutcome:
    label: str
    delivered: bool
    attempts: int
    reason: str = ""


def send_to_url(url, message: AlertMessage, secrets=None) -> tuple[bool, str, str]:
    """One attempt: (delivered, service name, reason).  Never raises, never logs the URL."""
    try:
        plugin = service(url.value(secrets))
    except UnknownSecret as exc:
        return False, "", str(exc)
    if plugin is None:
        return False, "", "Apprise cannot use this URL"
    name = service_name(plugin)
    try:
        ok = plugin.notify(body=message.body, title=message.title,
                           notify_type=apprise.NotifyType.FAILURE if message.failure
                           else apprise.NotifyType.INFO)
    except Exception as exc:      # a plugin's own bug must not end the alert thread
        return False, name, f"{type(exc).__name__} in the {name} service"
    return bool(ok), name, "" if ok else f"the {name} service did not take it"


def deliver_with_retries(profile: AlertProfile, message: AlertMessage, retry_delays,
                         stopping: threading.Event | None = None, on_retry=None,
                         secrets=None) -> list[UrlOutcome]:
    """Every URL of ``profile``; a failed one again after each of ``retry_delays`` (a secret
    that cannot be resolved is not retried).  ``secrets``: name -> value."""
    pending = list(profile.urls)
    outcomes: dict[int, UrlOutcome] = {}
    for attempt in range(1, len(retry_delays) + 2):
        failed = []
        for url in pending:
            delivered, name, reason = send_to_url(url, message, secrets)
            label = f"{url.label} ({name})" if name else url.label
            outcomes[url.position] = UrlOutcome(label, delivered, attempt, reason)
            if not delivered and not reason.startswith("secret "):
                failed.append(url)
        pending = failed
        if not pending or attempt > len(retry_delays) or (stopping and stopping.is_set()):
            break
        delay = retry_delays[attempt - 1]
        if on_retry is not None:
            on_retry(attempt, [outcomes[u.position] for u in pending], delay)
        if stopping is not None:
            if stopping.wait(delay):
                break
        else:
            time.sleep(delay)
    return [outcomes[position] for position in sorted(outcomes)]


def summary(outcomes: list[UrlOutcome]) -> tuple[str, str]:
    """(status, message) of a profile's delivery."""
    sent = [o for o in outcomes if o.delivered]
    failed = [o for o in outcomes if not o.delivered]
    if not failed:
        return "sent", f"sent to {len(sent)} URL(s)"
    details = "; ".join(f"{o.label}: {o.reason} (after {o.attempts} attempt(s))"
                        for o in failed)
    return "failed", f"sent to {len(sent)} of {len(outcomes)} URL(s); {details}"


class AlertSender:
    def __init__(self, config: AlertConfig, executions, retry_delays=RETRY_DELAYS,
                 secrets=None):
        """``secrets``: name -> value (the secrets store's lookup), for ``secret:NAME`` URLs."""
        self.config = config or EMPTY
        self.executions = executions        # ExecutionStore: earlier states, alerts column
        self.secrets = secrets
        self.retry_delays = tuple(retry_delays)
        self._stopping = threading.Event()
        self._records_lock = threading.Lock()
        self._records: dict[str, dict[str, dict]] = {}
        self._workers = ProfileWorkers(self.config.profiles, self.deliver, THREAD_PREFIX,
                                       "alerts")
        self.failures: dict[str, int] = {name: 0 for name in self.config.profiles}

    # -- life cycle --------------------------------------------------------------------------
    def start(self) -> None:
        for profile in self.config.profiles.values():
            log.info("alerts: profile %s%s", profile.describe(),
                     " (selected)" if profile.name in self.config.selected else "")
            for url in profile.urls:
                if url.secret:
                    self._check_secret(profile, url)
        if not self.config.selected:
            log.info("alerts: no profile selected (--alert-profile); only jobs naming "
                     "alert_profiles send alerts")
        self._workers.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Queued alerts get one last attempt each (no retries), within ``timeout``."""
        self._stopping.set()
        self._workers.stop(timeout)

    def _check_secret(self, profile: AlertProfile, url) -> None:
        """A secret that is missing or not an Apprise URL now: said at start, not fatal (it may
        be set later through the API)."""
        try:
            usable = service(url.value(self.secrets)) is not None
            why = "it does not hold a URL Apprise can use"
        except UnknownSecret as exc:
            usable, why = False, str(exc)
        if not usable:
            log.warning("alerts: profile %s, %s: %s; its alerts fail until that is fixed",
                        profile.name, url.label, why)

    # -- the run listener --------------------------------------------------------------------
    def profiles_for(self, job: dict) -> list[AlertProfile]:
        """The job's ``alert_profiles`` when it has the field, else the selected profiles."""
        names = job.get("alert_profiles")
        if not isinstance(names, list):
            names = self.config.selected
        profiles = []
        for name in names:
            profile = self.config.get(name)
            if profile is None:
                log.warning("alerts: job %s names alert profile %r, which %s does not define",
                            job.get("job_id"), name, "the alert configuration")
            else:
                profiles.append(profile)
        return profiles

    def on_run_finished(self, run: FinishedRun) -> None:
        """The "alerts" post-run step (app.py: last, after "findings" and "retry")."""
        try:
            self._handle(run)
        except Exception:   # an alert problem must never disturb the run
            log.exception("alerts: execution %s not handled", run.execution_id)

    def _handle(self, run: FinishedRun) -> None:
        if not run.final:
            return      # another attempt follows (retries): only the last one alerts
        job = run.job or {}
        profiles = self.profiles_for(job)
        if not profiles:
            return
        earlier = self.executions.earlier_final_states(run.job_id, run.execution_id)
        streak = streak_of(run.state, earlier)
        recorded = run.findings if isinstance(run.findings, Recorded) else None
        for profile in profiles:
            events = triggered(profile, run.state, recorded, streak)
            if not events:
                continue
            message = build_message(run.job_name, run.job_id, run.state, run.execution_id,
                                    events, recorded, run.description)
            # the run's secret values never leave in an alert (CONTRACT §7)
            message = replace(message, title=run.redact(message.title),
                              body=run.redact(message.body))
            self._record(run.execution_id, profile.name, "queued", "waiting to be sent",
                         sorted(events))
            self._workers.put(profile.name,
                AlertDelivery(run.execution_id, run.job_name, tuple(sorted(events)), message))

    # -- deliveries --------------------------------------------------------------------------
    def deliver(self, profile: AlertProfile, delivery: AlertDelivery) -> None:
        def retrying(attempt, failed, delay):
            reasons = "; ".join(f"{o.label}: {o.reason}" for o in failed)
            log.warning("alerts: profile %s, job %s: attempt %d failed (%s); retrying in %g s",
                        profile.name, delivery.job_name, attempt, reasons, delay)
            self._record(delivery.execution_id, profile.name, "retrying",
                         f"attempt {attempt} failed: {reasons}", list(delivery.events))

        outcomes = deliver_with_retries(profile, delivery.message, self.retry_delays,
                                        self._stopping, retrying, self.secrets)
        status, text = summary(outcomes)
        if status == "sent":
            log.info("alerts: profile %s, job %s: %s", profile.name, delivery.job_name, text)
        else:
            self.failures[profile.name] = self.failures.get(profile.name, 0) + 1
            log.error("alerts: profile %s, job %s: %s", profile.name, delivery.job_name, text)
        self._record(delivery.execution_id, profile.name, status, text, list(delivery.events),
                     final=True)

    def _record(self, execution_id, profile: str, status: str, message: str, events,
                final: bool = False) -> None:
        if execution_id is None:
            return
        entry = {"profile": profile, "status": status, "message": message,
                 "events": list(events), "time": datetime.now(timezone.utc).isoformat()}
        with self._records_lock:
            entries = self._records.setdefault(execution_id, {})
            entries[profile] = entry
            column = json.dumps(list(entries.values()))
            if final and all(e["status"] in ("sent", "failed") for e in entries.values()):
                del self._records[execution_id]
            try:
                self.executions.set(execution_id, alerts=column)
            except Exception:
                log.exception("alerts: cannot record %s for execution %s", status,
                              execution_id)

