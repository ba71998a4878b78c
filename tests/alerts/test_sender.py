"""Delivering alerts to local json:// receivers that answer 200, 500, hang or refuse, and to a
real SMTP server (aiosmtpd) through mailto://; what is recorded on the execution."""
from __future__ import annotations

import json
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest

from bots_scheduler.alerts.messages import AlertMessage
from bots_scheduler.alerts.profiles import load_alert_config
from bots_scheduler.alerts.sender import AlertSender, deliver_with_retries, summary
from bots_scheduler.cli.definition import build_parser
from bots_scheduler.datastore.store import Datastore
from bots_scheduler.executions.store import ExecutionStore
from bots_scheduler.executions.outcome import FinishedRun, Outcome
from bots_scheduler.executions.states import ExecutionState
from bots_scheduler.findings import Finding
from bots_scheduler.jobs.report import Report
from bots_scheduler.findings.store import Recorded, RunCounts
from bots_scheduler.settings import database_settings
from tests.notifications.smtp_servers import SmtpServer, make_self_signed

MESSAGE = AlertMessage("Bots Scheduler: test", "body text")


def profile_of(alerts_ini, urls: str, **fields):
    path = alerts_ini({"p": {"urls": urls, **fields}})
    return load_alert_config(path, ["p"])


def test_a_receiver_that_answers_200_gets_the_title_and_body(receiver, alerts_ini):
    hook = receiver()
    profile = profile_of(alerts_ini, hook.url("/T0/secret-token")).get("p")
    outcomes = deliver_with_retries(profile, MESSAGE, retry_delays=(0.1,))
    assert summary(outcomes) == ("sent", "sent to 1 URL(s)")
    (got,) = hook.received
    assert (got["body"]["title"], got["body"]["message"]) == ("Bots Scheduler: test",
                                                              "body text")
    assert got["path"] == "/T0/secret-token"


def test_500_and_refused_are_retried_twice_and_reported_without_the_url(
        receiver, refused_url, alerts_ini):
    failing = receiver(status=500)
    profile = profile_of(alerts_ini, f"{failing.url('/tok-500')} {refused_url}").get("p")
    started = time.monotonic()
    outcomes = deliver_with_retries(profile, MESSAGE, retry_delays=(0.2, 0.2))
    assert time.monotonic() - started < 20
    assert len(failing.attempts) == 3                       # first try and two retries
    status, text = summary(outcomes)
    assert status == "failed" and "sent to 0 of 2 URL(s)" in text
    assert "url 1 (JSON)" in text and "url 2 (JSON)" in text and "after 3 attempt(s)" in text
    assert "tok-500" not in text and "127.0.0.1" not in text


def test_a_hanging_receiver_is_given_up_on_and_retried(receiver, alerts_ini):
    hanging = receiver(hang=30)
    profile = profile_of(alerts_ini, hanging.url() + "?rto=1&cto=1").get("p")
    outcomes = deliver_with_retries(profile, MESSAGE, retry_delays=(0.1, 0.1))
    assert summary(outcomes)[0] == "failed"
    assert len(hanging.attempts) == 3


@pytest.mark.integration     # an aiosmtpd server
def test_mailto_reaches_a_real_smtp_server(tmp_path, alerts_ini):
    tls = make_self_signed(tmp_path / "tls")
    mail = SmtpServer("unencrypted", tls).start()
    try:
        url = (f"mailto://127.0.0.1:{mail.port}?from=bots@example.org&to=soc@example.org"
               f"&mode=insecure")
        profile = profile_of(alerts_ini, url).get("p")
        outcomes = deliver_with_retries(profile, MESSAGE, retry_delays=())
        assert summary(outcomes)[0] == "sent", outcomes
        (received,) = mail.wait_for(1)
        assert received.rcpt_tos == ["soc@example.org"]
        assert received.message["Subject"] == "Bots Scheduler: test"
        assert "body text" in received.message.get_body().get_content()
    finally:
        mail.stop()


@pytest.fixture
def datastore(workdir):
    options = build_parser().parse_args(["run"])
    store = Datastore(database_settings(options, Path("data")), pool_size=2)
    store.create_tables()
    yield ExecutionStore(store.engine, store.tables)
    store.dispose()


def outcome(eid, state="succeeded", job=None, recorded=None, final=True, description="",
            sensitive=None) -> FinishedRun:
    """A run as the post-run steps see it."""
    return FinishedRun(eid, "j1", job or {"job_id": "j1", "name": "daily ports"}, None,
                       Outcome(ExecutionState(state), Report("Ports"), description),
                       final=final, findings=recorded, sensitive=sensitive or {},
                       recorded=True)


def add_execution(datastore, eid, state, minute):
    datastore.insert(eid, {"job_id": "j1", "name": "daily ports"}, state,
                            datetime(2026, 12, 1, 8, minute, tzinfo=timezone.utc))


def wait_alerts(datastore, eid, timeout=20):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        entries = datastore.get(eid)["alerts"]
        if entries and all(e["status"] in ("sent", "failed") for e in entries):
            return entries
        time.sleep(0.05)
    raise AssertionError(f"alerts of {eid} not final: {datastore.get(eid)['alerts']}")


def test_the_sender_alerts_off_the_run_thread_and_records_it_on_the_execution(
        datastore, receiver, refused_url, alerts_ini):
    hook = receiver(hang=2)
    path = alerts_ini({"ops": {"urls": hook.url()},
                       "dead": {"urls": refused_url}})
    sender = AlertSender(load_alert_config(path, ["ops", "dead"]), datastore,
                         retry_delays=(0.1, 0.1))
    sender.start()
    try:
        add_execution(datastore, "e1", "succeeded", 0)
        found = Recorded(RunCounts(new=1), (Finding("open-port", "192.0.2.1:22/tcp"),))
        started = time.monotonic()
        sender.on_run_finished(outcome("e1", recorded=found))
        assert time.monotonic() - started < 1.0       # queued, not sent, in the run's thread
        entries = {e["profile"]: e for e in wait_alerts(datastore, "e1")}
        assert entries["ops"]["status"] == "sent" and entries["ops"]["events"] == [
            "new-findings"]
        assert entries["dead"]["status"] == "failed"
        assert "after 3 attempt(s)" in entries["dead"]["message"]
        assert refused_url.split("//")[1] not in json.dumps(entries)
        assert "192.0.2.1:22/tcp" in hook.received[0]["body"]["message"]
    finally:
        sender.stop()


def test_failure_once_after_the_last_attempt_then_recovery(datastore, receiver, alerts_ini):
    hook = receiver()
    path = alerts_ini({"ops": {"urls": hook.url()}})
    sender = AlertSender(load_alert_config(path, ["ops"]), datastore, retry_delays=())
    sender.start()
    try:
        add_execution(datastore, "e1", "failed", 0)
        sender.on_run_finished(outcome("e1", "failed", final=False))   # a retry follows
        add_execution(datastore, "e2", "failed", 1)
        sender.on_run_finished(outcome("e2", "failed"))
        wait_alerts(datastore, "e2")
        assert datastore.get("e1")["alerts"] == []
        add_execution(datastore, "e3", "succeeded", 2)
        sender.on_run_finished(outcome("e3"))
        wait_alerts(datastore, "e3")
        titles = [r["body"]["title"] for r in hook.wait_for(2)]
        assert titles == ["Bots Scheduler: daily ports: run failed",
                          "Bots Scheduler: daily ports: recovered: the run succeeded after a "
                          "failure"]
    finally:
        sender.stop()


def test_a_jobs_alert_profiles_replace_the_default_selection(datastore, receiver, alerts_ini):
    default, own = receiver(), receiver()
    path = alerts_ini({"default": {"urls": default.url(), "events": "every-run"},
                       "own": {"urls": own.url(), "events": "every-run"}})
    sender = AlertSender(load_alert_config(path, ["default"]), datastore, retry_delays=())
    sender.start()
    try:
        add_execution(datastore, "e1", "succeeded", 0)
        sender.on_run_finished(outcome("e1", job={"job_id": "j1", "name": "n",
                                                  "alert_profiles": ["own"]}))
        add_execution(datastore, "e2", "succeeded", 1)
        sender.on_run_finished(outcome("e2", job={"job_id": "j1", "name": "n",
                                                  "alert_profiles": []}))
        add_execution(datastore, "e3", "succeeded", 2)
        sender.on_run_finished(outcome("e3"))
        wait_alerts(datastore, "e1")
        wait_alerts(datastore, "e3")
        assert len(own.wait_for(1)) == 1 and len(default.wait_for(1)) == 1
        assert datastore.get("e2")["alerts"] == []
    finally:
        sender.stop()


def test_a_secret_value_of_the_run_never_leaves_in_an_alert(datastore, receiver, alerts_ini):
    hook = receiver()
    path = alerts_ini({"ops": {"urls": hook.url()}})
    sender = AlertSender(load_alert_config(path, ["ops"]), datastore, retry_delays=())
    sender.start()
    try:
        add_execution(datastore, "e1", "failed", 0)
        sender.on_run_finished(outcome("e1", "failed", description="HTTP 401 for key sk-123456",
                                       sensitive={"shodan-key": "sk-123456"}))
        wait_alerts(datastore, "e1")
        (got,) = hook.wait_for(1)
        assert "sk-123456" not in json.dumps(got)
        assert "HTTP 401 for key [secret:shodan-key]" in got["body"]["message"]
    finally:
        sender.stop()
