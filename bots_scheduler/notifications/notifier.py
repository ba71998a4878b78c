"""The Notifier: decides after each run whether to e-mail its report, and sends it off the job's
critical path.

It takes part in two post-run steps (executions/steps.py): ``detect_changes`` (before the run
is recorded) adds the "changes since the previous successful run" section to the report of a
``notify_changes`` job; ``on_run_finished`` (after it) decides quickly and queues one delivery
per profile.  A delivery carries the report as items: each e-mail renders them itself, its
images as inline parts.  Each profile has its own worker thread, so a dead server for one
profile never delays another, and retries transient failures with backoff.  The outcome per
profile is written to the execution's ``notifications`` column; the run's own state is never
touched.
"""
from __future__ import annotations

import json
import logging
import threading
from dataclasses import dataclass
from datetime import datetime, timezone

from bots_scheduler.executions.outcome import FinishedRun, redactor
from bots_scheduler.findings.recording import changes_section
from bots_scheduler.jobs.finding import collect_findings
from bots_scheduler.jobs.report import Report, Text
from bots_scheduler.notifications.changes import Changes, compare, report_section
from bots_scheduler.notifications.profiles import SmtpProfile, load_profiles
from bots_scheduler.notifications.sender import DeliveryError, build_message, deliver
from bots_scheduler.notifications.workers import ProfileWorkers

log = logging.getLogger(__name__)

RETRY_DELAYS = (5.0, 30.0, 120.0)     # seconds before the 2nd, 3rd and 4th attempts
SUBJECT_PREFIX = "[Bots Scheduler]"


@dataclass
class Delivery:
    execution_id: str | None
    job_name: str
    subject: str
    report: Report
    headers: dict
    sensitive: dict | None = None      # {value: name} never to show (CONTRACT §7)


class Notifier:
    """``executions``: the ExecutionStore (previous data, the notifications column)."""

    def __init__(self, profiles, executions, retry_delays=RETRY_DELAYS):
        self.profiles: tuple[SmtpProfile, ...] = tuple(profiles)
        self.executions = executions
        self.retry_delays = tuple(retry_delays)
        self._stopping = threading.Event()
        self._records_lock = threading.Lock()
        self._records: dict[str, dict[str, dict]] = {}   # eid -> profile -> latest entry
        self._workers = ProfileWorkers({p.name: p for p in self.profiles},
                                       self.deliver_with_retries, "notify-", "notifications")
        self.failures: dict[str, int] = {p.name: 0 for p in self.profiles}   # for /metrics

    @classmethod
    def from_settings(cls, settings, executions, **kwargs) -> "Notifier":
        """Raises UsageError (one line) when the selected profiles are not usable."""
        return cls(load_profiles(settings.smtp_config, settings.smtp_profiles), executions,
                   **kwargs)

    # -- life cycle --------------------------------------------------------------------------
    def start(self) -> None:
        if not self.profiles:
            log.info("notifications: no SMTP profile selected (--smtp-profile); no e-mail sent")
        for profile in self.profiles:
            log.info("notifications: profile %s", profile.describe())
            if profile.uses_auth and profile.security == "unencrypted":
                log.warning("notifications: profile %s sends its password unencrypted "
                            "(security = unencrypted)", profile.name)
        self._workers.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Queued messages get one last attempt each (no retries), within ``timeout``."""
        self._stopping.set()
        self._workers.stop(timeout)

    # -- the post-run steps ------------------------------------------------------------------
    def detect_changes(self, run: FinishedRun) -> None:
        """The "changes" step (before "record"): a succeeded run of a ``notify_changes`` job
        gets a section of what changed in its data since the previous successful run -- unless
        the run reports findings, which say what is new themselves (findings/recording.py)."""
        if not (wants_changes(run) and run.outcome.succeeded) or \
                collect_findings(run.report.items):
            return
        previous = self.executions.previous_data(run.job_id, run.execution_id)
        changes = compare(previous, run.data)
        run.notes["changes"] = changes
        run.outcome.report = run.outcome.report.with_items(report_section(changes))

    def on_run_finished(self, run: FinishedRun) -> None:
        """The "notify" step (after "record")."""
        try:
            self._handle(run)
        except Exception:       # a notification problem must never disturb the run
            log.exception("notifications: execution %s of job %s not handled",
                          run.execution_id, run.job_name)

    def _handle(self, run: FinishedRun) -> None:
        if not run.final or not self.profiles:
            return      # another attempt follows (retries): only the last one is told
        succeeded = run.outcome.succeeded
        forced = run.notify
        changes = run.notes.get("changes")
        recorded = run.findings
        if wants_changes(run) and succeeded and recorded is not None and recorded.used:
            # the job records findings: what is new is what they say, not a diff of its data
            send = recorded.counts.any_change if forced is None else bool(forced)
            if not send:
                self._record_all(run.execution_id, "skipped",
                                 "no new, changed or gone finding since the previous "
                                 "successful run")
            body = Report(_title(run), [
                changes_section(recorded),
                Text(f"The full report is execution {run.execution_id} in Bots Scheduler.")])
            subject = _subject(run, findings=recorded.counts)
        elif changes is not None:
            send = bool(changes) if forced is None else bool(forced)
            if not send and not changes:
                self._record_all(run.execution_id, "skipped",
                                 "no change since the previous successful run")
            body = Report(_title(run), [
                report_section(changes),
                Text(f"The full report is execution {run.execution_id} in Bots Scheduler.")])
            subject = _subject(run, changes)
        else:
            send = (succeeded and has_data(run.data)) if forced is None else bool(forced)
            body, subject = run.report, _subject(run)
        if send:
            self.enqueue(run.execution_id, run.job_name, subject, body,
                         headers={"X-Bots-Scheduler-Job": run.job_name,
                                  "X-Bots-Scheduler-Execution": str(run.execution_id)},
                         sensitive=run.sensitive)

    # -- deliveries --------------------------------------------------------------------------
    def enqueue(self, execution_id, job_name: str, subject: str, report: Report,
                headers: dict | None = None, sensitive: dict | None = None) -> None:
        delivery = Delivery(execution_id, job_name, subject, report, dict(headers or {}),
                            dict(sensitive or {}))
        for profile in self.profiles:
            self._record(execution_id, profile.name, "queued", "waiting to be sent", 0)
            self._workers.put(profile.name, delivery)

    def deliver_with_retries(self, profile: SmtpProfile, delivery: Delivery) -> None:
        # built here, in the profile's thread, once: every attempt sends the same Message-ID
        message = build_message(profile, delivery.subject, delivery.report, delivery.headers,
                                redact=redactor(delivery.sensitive or {}))
        attempts = len(self.retry_delays) + 1
        for attempt in range(1, attempts + 1):
            try:
                text = deliver(profile, message)
            except DeliveryError as exc:
                if exc.transient and attempt < attempts and not self._stopping.is_set():
                    delay = self.retry_delays[attempt - 1]
                    log.warning("notifications: profile %s, job %s: attempt %d failed: %s; "
                                "retrying in %g s", profile.name, delivery.job_name, attempt,
                                exc, delay)
                    self._record(delivery.execution_id, profile.name, "retrying",
                                 f"attempt {attempt} failed: {exc}", attempt)
                    if not self._stopping.wait(delay):
                        continue
                log.error("notifications: profile %s, job %s: not sent after %d attempt(s): %s",
                          profile.name, delivery.job_name, attempt, exc)
                self.failures[profile.name] = self.failures.get(profile.name, 0) + 1
                self._record(delivery.execution_id, profile.name, "failed", str(exc), attempt)
                return
            log.info("notifications: profile %s, job %s: %s", profile.name, delivery.job_name,
                     text)
            self._record(delivery.execution_id, profile.name, "sent", text, attempt)
            return

    # -- the execution's notifications column ------------------------------------------------
    def _record_all(self, execution_id, status: str, message: str) -> None:
        for profile in self.profiles:
            self._record(execution_id, profile.name, status, message, 0)

    def _record(self, execution_id, profile: str, status: str, message: str,
                attempts: int) -> None:
        if execution_id is None:
            return
        entry = {"profile": profile, "status": status, "message": message,
                 "attempts": attempts, "time": datetime.now(timezone.utc).isoformat()}
        with self._records_lock:
            entries = self._records.setdefault(execution_id, {})
            entries[profile] = entry
            column = json.dumps(list(entries.values()))
            if all(e["status"] in ("sent", "failed", "skipped") for e in entries.values()) \
                    and len(entries) == len(self.profiles):
                del self._records[execution_id]
            try:
                self.executions.set(execution_id, notifications=column)
            except Exception:
                log.exception("notifications: cannot record %s for execution %s",
                              status, execution_id)



# -- decisions -----------------------------------------------------------------------------------

def wants_changes(run) -> bool:
    """The job's ``notify_changes``: the per-job override when set, else the class's info."""
    override = (run.job or {}).get("notify_changes")
    if override is not None:
        return override is True or str(override).lower() in ("true", "1", "yes", "on")
    return bool(run.job_class and run.job_class.meta_info().get("notify_changes"))


def has_data(data) -> bool:
    if data is None:
        return False
    try:
        return len(data) > 0
    except TypeError:
        return True


def _title(run) -> str:
    if run.title:
        return run.title
    return run.job_class.meta_info()["job_class_name"] if run.job_class else "Report"


def _subject(run, changes: Changes | None = None, findings=None) -> str:
    subject = f"{SUBJECT_PREFIX} {run.job_name}: {_title(run)}"
    if changes is not None:
        subject += f" ({changes.summary()})"
    if findings is not None:
        subject += f" ({findings.new} new, {findings.changed} changed, {findings.gone} gone)"
    if run.state != "succeeded":
        subject += f" [{run.state}]"
    return subject
