"""The Notifier: decides after each run whether to e-mail its report, and sends it off the job's
critical path.

``on_run_finished`` is a run listener (``Application.run_listeners``): it runs in the job thread
once the execution row is final, decides quickly, and queues one delivery per profile.  Each
profile has its own worker thread, so a dead server for one profile never delays another, and
retries transient failures with backoff.  The outcome per profile is written to the execution's
``notifications`` column; the run's own state is never touched.
"""
from __future__ import annotations

import json
import logging
import queue
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timezone

from bots_scheduler.findings.recording import changes_section
from bots_scheduler.jobs.report import Text, render_items, render_report
from bots_scheduler.notifications.changes import Changes, compare, report_section
from bots_scheduler.notifications.profiles import SmtpProfile, load_profiles
from bots_scheduler.notifications.sender import DeliveryError, build_message, deliver

log = logging.getLogger(__name__)

RETRY_DELAYS = (5.0, 30.0, 120.0)     # seconds before the 2nd, 3rd and 4th attempts
SUBJECT_PREFIX = "[Bots Scheduler]"


@dataclass
class Delivery:
    execution_id: str | None
    job_name: str
    subject: str
    body_html: str
    headers: dict


class Notifier:
    def __init__(self, profiles, datastore, retry_delays=RETRY_DELAYS):
        self.profiles: tuple[SmtpProfile, ...] = tuple(profiles)
        self.datastore = datastore
        self.retry_delays = tuple(retry_delays)
        self._stopping = threading.Event()
        self._records_lock = threading.Lock()
        self._records: dict[str, dict[str, dict]] = {}   # eid -> profile -> latest entry
        self._workers = {profile.name: _ProfileWorker(self, profile) for profile in self.profiles}
        self.failures: dict[str, int] = {p.name: 0 for p in self.profiles}   # for /metrics

    @classmethod
    def from_settings(cls, settings, datastore, **kwargs) -> "Notifier":
        """Raises UsageError (one line) when the selected profiles are not usable."""
        return cls(load_profiles(settings.smtp_config, settings.smtp_profiles), datastore,
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
        for worker in self._workers.values():
            worker.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Queued messages get one last attempt each (no retries), within ``timeout``."""
        self._stopping.set()
        for worker in self._workers.values():
            worker.queue.put(None)
        deadline = time.monotonic() + timeout
        for worker in self._workers.values():
            if worker.is_alive():
                worker.join(max(deadline - time.monotonic(), 0))

    # -- the run listener --------------------------------------------------------------------
    def on_run_finished(self, outcome) -> None:
        try:
            self._handle(outcome)
        except Exception:       # a notification problem must never disturb the run
            log.exception("notifications: execution %s of job %s not handled",
                          getattr(outcome, "execution_id", "?"), _job_name(outcome))

    def _handle(self, outcome) -> None:
        if not getattr(outcome, "final", True):
            return      # another attempt follows (retries): only the last one is told
        change_mode = wants_changes(outcome)
        if not change_mode and not self.profiles:
            return
        succeeded = outcome.state == "succeeded"
        forced = getattr(outcome, "notify", None)
        recorded = getattr(outcome, "findings", None)
        if change_mode and succeeded and recorded is not None and recorded.used:
            # the job records findings: what is new is what they say, not a diff of _data
            send = recorded.counts.any_change if forced is None else bool(forced)
            if self.profiles and not send:
                self._record_all(outcome.execution_id, "skipped",
                                 "no new, changed or gone finding since the previous "
                                 "successful run")
            body = render_report(_title(outcome), [
                changes_section(recorded),
                Text(f"The full report is execution {outcome.execution_id} in Bots Scheduler.")])
            subject = _subject(outcome, findings=recorded.counts)
        elif change_mode and succeeded:
            changes = self._changes(outcome)
            send = bool(changes) if forced is None else bool(forced)
            if self.profiles and not send and not changes:
                self._record_all(outcome.execution_id, "skipped",
                                 "no change since the previous successful run")
            body, subject = self._change_report(outcome, changes), _subject(outcome, changes)
        else:
            send = (succeeded and has_data(outcome.data)) if forced is None else bool(forced)
            body, subject = outcome.result or "", _subject(outcome)
        if send and self.profiles:
            self.enqueue(outcome.execution_id, _job_name(outcome), subject, body,
                         headers={"X-Bots-Scheduler-Job": _job_name(outcome),
                                  "X-Bots-Scheduler-Execution": str(outcome.execution_id)})

    def _changes(self, outcome) -> Changes:
        previous = self.datastore.previous_data(outcome.job_id, outcome.execution_id)
        changes = compare(previous, outcome.data)
        section = render_items(report_section(changes))
        self.datastore.update_execution(outcome.execution_id,
                                        result=with_section(outcome.result or "", section))
        return changes

    def _change_report(self, outcome, changes: Changes) -> str:
        return render_report(_title(outcome), [
            report_section(changes),
            Text(f"The full report is execution {outcome.execution_id} in Bots Scheduler."),
        ])

    # -- deliveries --------------------------------------------------------------------------
    def enqueue(self, execution_id, job_name: str, subject: str, body_html: str,
                headers: dict | None = None) -> None:
        delivery = Delivery(execution_id, job_name, subject, body_html, dict(headers or {}))
        for profile in self.profiles:
            self._record(execution_id, profile.name, "queued", "waiting to be sent", 0)
            self._workers[profile.name].queue.put(delivery)

    def deliver_with_retries(self, profile: SmtpProfile, delivery: Delivery) -> None:
        # built here, in the profile's thread, once: every attempt sends the same Message-ID
        message = build_message(profile, delivery.subject, delivery.body_html, delivery.headers)
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
                self.datastore.update_execution(execution_id, notifications=column)
            except Exception:
                log.exception("notifications: cannot record %s for execution %s",
                              status, execution_id)


class _ProfileWorker(threading.Thread):
    def __init__(self, notifier: Notifier, profile: SmtpProfile):
        super().__init__(name=f"notify-{profile.name}", daemon=True)
        self.notifier = notifier
        self.profile = profile
        self.queue: queue.Queue[Delivery | None] = queue.Queue()

    def run(self) -> None:
        while (delivery := self.queue.get()) is not None:
            try:
                self.notifier.deliver_with_retries(self.profile, delivery)
            except Exception:
                log.exception("notifications: profile %s: delivery crashed", self.profile.name)


# -- decisions -----------------------------------------------------------------------------------

def wants_changes(outcome) -> bool:
    """The job's ``notify_changes``: the per-job override when set, else the class's info."""
    override = (getattr(outcome, "job", None) or {}).get("notify_changes")
    if override is not None:
        return override is True or str(override).lower() in ("true", "1", "yes", "on")
    job_class = getattr(outcome, "job_class", None)
    return bool(job_class and job_class.meta_info().get("notify_changes"))


def has_data(data) -> bool:
    if data is None:
        return False
    try:
        return len(data) > 0
    except TypeError:
        return True


def with_section(report_html: str, section_html: str) -> str:
    """The report with the changes section inside its outer element."""
    if report_html.endswith("</div>"):
        return report_html[:-len("</div>")] + section_html + "</div>"
    return report_html + section_html


def _job_name(outcome) -> str:
    job = getattr(outcome, "job", None) or {}
    return job.get("name") or getattr(outcome, "job_id", "") or "job"


def _title(outcome) -> str:
    if getattr(outcome, "title", ""):
        return outcome.title
    job_class = getattr(outcome, "job_class", None)
    return job_class.meta_info()["job_class_name"] if job_class else "Report"


def _subject(outcome, changes: Changes | None = None, findings=None) -> str:
    subject = f"{SUBJECT_PREFIX} {_job_name(outcome)}: {_title(outcome)}"
    if changes is not None:
        subject += f" ({changes.summary()})"
    if findings is not None:
        subject += f" ({findings.new} new, {findings.changed} changed, {findings.gone} gone)"
    if outcome.state != "succeeded":
        subject += f" [{outcome.state}]"
    return subject
