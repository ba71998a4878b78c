"""The Notifier inside a real Application: jobs run by the real Runner on a SQLite datastore, their
reports e-mailed to real SMTP servers (aiosmtpd)."""
from __future__ import annotations

import json
import logging
import textwrap
import threading
import time

import pytest
import sqlalchemy

from bots_scheduler.app import Application
from bots_scheduler.notifications.notifier import Notifier
from bots_scheduler.notifications.profiles import load_profiles
from bots_scheduler.settings import DatabaseSettings, Settings
from tests.notifications.smtp_servers import free_port

JOBS = textwrap.dedent('''
    import json
    from bots_scheduler import *

    class _Finder(JobBase):
        @report
        def run(self, path, notify=None):
            with open(path) as handle:
                self._data = json.load(handle)
            if notify is not None:
                self._notify = notify
            return Section("Found"), Data(self._data)

    class Finder(_Finder):
        info = {"job_class_name": "Finder", "report_title": "Hosts found",
                "arguments": [{"type": "file", "description": "JSON data"}]}

    class ChangeFinder(_Finder):
        info = {"job_class_name": "Change finder", "report_title": "Exposed services",
                "arguments": [{"type": "file", "description": "JSON data"}],
                "notify_changes": True}

    class Crasher(JobBase):
        info = {"report_title": "Crash"}

        @report
        def run(self):
            self._data = {"partial": True}
            raise RuntimeError("boom")
''')


@pytest.fixture
def make_app(tmp_path):
    """Factory: an Application (not serving) with the given SMTP profiles."""
    (tmp_path / "jobs").mkdir()
    (tmp_path / "jobs" / "finders.py").write_text(JOBS)
    apps: list[Application] = []

    def make(smtp_config=None, profiles=()):
        url = sqlalchemy.URL.create("sqlite", database=str(tmp_path / "datastore.db"))
        settings = Settings(database=DatabaseSettings("sqlite", "sqlite", url),
                            data_dir=tmp_path / "data", jobs_dirs=(tmp_path / "jobs",),
                            smtp_config=smtp_config or tmp_path / "none.ini",
                            smtp_profiles=tuple(profiles))
        app = Application(settings)
        app.prepare()
        app.notifier.start()
        apps.append(app)
        return app

    yield make
    for app in apps:
        app.notifier.stop(timeout=5)
        app.datastore.dispose()


def run(app, job_class="Finder", data=None, job_id="job-1", name="nightly scan", args=None,
        **options):
    """One run through the real Runner; returns the execution id."""
    if data is not None:
        (app.settings.data_dir / "found.txt").write_text(json.dumps(data))
    if args is None:
        args = ["found.txt"] if data is not None else []
    outcome = app.runner.run(f"finders.{job_class}", job_id, args, {"name": name, **options})
    return outcome.execution_id


def execution(app, eid):
    return app.executions.get(eid)


def wait_notifications(app, eid, statuses=("sent", "failed", "skipped"), timeout=20):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        entries = execution(app, eid)["notifications"]
        if entries and all(entry["status"] in statuses for entry in entries):
            return {entry["profile"]: entry for entry in entries}
        time.sleep(0.05)
    raise AssertionError(f"notifications of {eid}: {execution(app, eid)['notifications']}")


def execution_of(received):
    return received.message["X-Bots-Scheduler-Execution"]


# -- when to send ------------------------------------------------------------------------------

def test_a_run_with_data_mails_its_report_to_every_profile(make_app, smtp_server, smtp_ini):
    first, second = smtp_server("unencrypted"), smtp_server("starttls")
    ini = smtp_ini({"ops": first, "soc": second})
    app = make_app(ini, ["ops", "soc"])
    eid = run(app, data={"10.0.0.1": {"ports": [22]}})
    for server in (first, second):
        (received,) = server.wait_for(1)
        assert received.message["Subject"] == "[Bots Scheduler] nightly scan: Hosts found"
        assert execution_of(received) == eid
        assert "10.0.0.1" in received.part("html") and "- 22" in received.part("plain")
    outcomes = wait_notifications(app, eid)
    assert set(outcomes) == {"ops", "soc"}
    assert all(o["status"] == "sent" and o["attempts"] == 1 for o in outcomes.values())
    assert outcomes["ops"]["message"] == "sent to soc@example.org"
    assert execution(app, eid)["state"] == "succeeded"


def test_a_run_with_empty_data_sends_nothing(make_app, smtp_server, smtp_ini):
    server = smtp_server()
    app = make_app(smtp_ini({"ops": server}), ["ops"])
    quiet = run(app, data={})
    assert execution(app, quiet)["notifications"] == []
    found = run(app, data=["something"])         # a later run's message is the only one
    (received,) = server.wait_for(1)
    assert execution_of(received) == found


def test_notify_true_sends_even_without_data_and_false_suppresses(make_app, smtp_server,
                                                                    smtp_ini):
    server = smtp_server()
    app = make_app(smtp_ini({"ops": server}), ["ops"])
    (app.settings.data_dir / "empty.txt").write_text("{}")
    (app.settings.data_dir / "full.txt").write_text('{"a": 1}')
    silenced = run(app, args=["full.txt", False])
    forced = run(app, args=["empty.txt", True])
    (received,) = server.wait_for(1)
    assert execution_of(received) == forced
    assert execution(app, silenced)["notifications"] == []


def test_a_failed_run_sends_nothing(make_app, smtp_server, smtp_ini):
    server = smtp_server()
    app = make_app(smtp_ini({"ops": server}), ["ops"])
    crashed = run(app, job_class="Crasher")
    assert execution(app, crashed)["state"] == "failed"
    found = run(app, data=[1])
    assert [execution_of(m) for m in server.wait_for(1)] == [found]


def test_without_profiles_nothing_is_recorded(make_app):
    app = make_app()
    eid = run(app, data={"a": 1})
    assert execution(app, eid)["notifications"] == []


# -- only what is new --------------------------------------------------------------------------

def test_change_mode_first_run_sends_identical_run_does_not_third_sends_the_difference(
        make_app, smtp_server, smtp_ini):
    server = smtp_server()
    app = make_app(smtp_ini({"ops": server}), ["ops"])
    hosts = {"10.0.0.1": {"ports": [22, 80]}, "10.0.0.2": {"ports": [443]}}
    first = run(app, "ChangeFinder", hosts)
    (mail,) = server.wait_for(1)
    assert mail.message["Subject"] == \
        "[Bots Scheduler] nightly scan: Exposed services (2 appeared, 0 disappeared)"
    assert "everything below is new" in mail.part("plain") and "10.0.0.2" in mail.part("plain")

    second = run(app, "ChangeFinder", json.loads(json.dumps(hosts)))
    assert wait_notifications(app, second)["ops"]["status"] == "skipped"
    assert "No change" in execution(app, second)["result"]

    changed = {"10.0.0.1": {"ports": [22, 80, 3389]}, "10.0.0.3": {"ports": [21]}}
    third = run(app, "ChangeFinder", changed)
    messages = server.wait_for(2)
    assert [execution_of(m) for m in messages] == [first, third]
    text = messages[1].part("plain")
    assert messages[1].message["Subject"].endswith("(2 appeared, 1 disappeared)")
    appeared = text.split("Appeared\n\n")[1].split("Disappeared\n\n")[0]
    disappeared = text.split("Disappeared\n\n")[1]
    assert "10.0.0.1 › ports: 3389" in appeared and "10.0.0.3:" in appeared
    assert "443" in disappeared and "10.0.0.2" in disappeared
    assert "10.0.0.1" not in disappeared and " 22" not in text and " 80" not in text
    assert f"execution {third}" in text


def test_change_mode_adds_the_changes_section_to_the_stored_report(make_app, smtp_server,
                                                                   smtp_ini):
    app = make_app()                        # no profile: the report still shows the changes
    run(app, "ChangeFinder", {"hosts": ["10.0.0.1"]})
    eid = run(app, "ChangeFinder", {"hosts": ["10.0.0.1", "<b>10.0.0.9</b>"]})
    result = execution(app, eid)["result"]
    assert result.startswith('<div class="bots-report">') and result.endswith("</div>")
    assert "Changes since the previous successful run" in result
    assert "&lt;b&gt;10.0.0.9&lt;/b&gt;" in result and "<b>10.0.0.9" not in result
    assert result.index("Found") < result.index("Changes since")


def test_change_mode_compares_with_the_previous_successful_run_only(make_app, smtp_server,
                                                                    smtp_ini):
    server = smtp_server()
    app = make_app(smtp_ini({"ops": server}), ["ops"])
    run(app, "ChangeFinder", {"hosts": ["a"]})
    server.wait_for(1)
    (app.settings.data_dir / "found.txt").write_text("not json")
    broken = run(app, "ChangeFinder", args=["found.txt"])
    assert execution(app, broken)["state"] == "failed"
    same = run(app, "ChangeFinder", {"hosts": ["a"]})
    assert wait_notifications(app, same)["ops"]["status"] == "skipped"


def test_the_per_job_override_turns_change_mode_on_and_off(make_app, smtp_server, smtp_ini):
    server = smtp_server()
    app = make_app(smtp_ini({"ops": server}), ["ops"])
    run(app, "Finder", {"a": 1}, job_id="on", notify_changes=True)
    repeat_on = run(app, "Finder", {"a": 1}, job_id="on", notify_changes=True)
    run(app, "ChangeFinder", {"a": 1}, job_id="off", notify_changes=False)
    repeat_off = run(app, "ChangeFinder", {"a": 1}, job_id="off", notify_changes=False)
    # one worker per profile sends in order: a message for repeat_on would come second
    sent_for = [execution_of(m) for m in server.wait_for(3)]
    assert repeat_on not in sent_for and sent_for[2] == repeat_off
    assert "Changes since" not in execution(app, repeat_off)["result"]


def test_disappearing_data_is_a_change_worth_a_message(make_app, smtp_server, smtp_ini):
    server = smtp_server()
    app = make_app(smtp_ini({"ops": server}), ["ops"])
    run(app, "ChangeFinder", {"10.0.0.1": [3389]})
    gone = run(app, "ChangeFinder", {})
    mails = server.wait_for(2)
    assert execution_of(mails[1]) == gone
    assert "Disappeared\n\n10.0.0.1:\n  - 3389" in mails[1].part("plain")


# -- never in the way --------------------------------------------------------------------------

def test_sending_happens_after_the_run_is_over(make_app, smtp_server, smtp_ini):
    hold = threading.Event()
    server = smtp_server(hold=hold)        # does not answer DATA until released
    app = make_app(smtp_ini({"ops": server}), ["ops"])
    eid = run(app, data={"a": 1})
    # the run returned while the server still holds the message
    assert execution(app, eid)["state"] == "succeeded"
    assert server.messages == []
    assert execution(app, eid)["notifications"][0]["status"] in ("queued", "retrying")
    hold.set()
    assert wait_notifications(app, eid)["ops"]["status"] == "sent"


def test_a_dead_server_leaves_the_run_succeeded_and_the_failure_recorded(make_app, smtp_ini,
                                                                          caplog):
    dead = {"hostname": "127.0.0.1", "port": free_port(), "security": "unencrypted",
            "from": "bots@example.org", "to": "soc@example.org"}
    app = make_app()
    notifier = Notifier(load_profiles(smtp_ini({"dead": dead}), ["dead"]), app.executions,
                        retry_delays=(0.05, 0.1))
    notifier.start()
    app.steps.append("notify-extra", notifier.on_run_finished)
    try:
        with caplog.at_level(logging.INFO, logger="bots_scheduler.notifications"):
            eid = run(app, data={"a": 1})
            entry = wait_notifications(app, eid)["dead"]
    finally:
        notifier.stop()
    assert execution(app, eid)["state"] == "succeeded"
    assert entry["status"] == "failed" and entry["attempts"] == 3
    assert f"cannot connect to 127.0.0.1:{dead['port']}" in entry["message"]
    retries = [r for r in caplog.records if "retrying" in r.getMessage()]
    assert len(retries) == 2 and all("profile dead" in r.getMessage() for r in retries)
    assert any(r.levelname == "ERROR" and "not sent after 3 attempt(s)" in r.getMessage()
               for r in caplog.records)


def test_a_busy_server_gets_the_message_on_a_later_attempt(make_app, smtp_server, smtp_ini):
    server = smtp_server(busy=2)          # "451 try again later" twice
    app = make_app()
    notifier = Notifier(load_profiles(smtp_ini({"ops": server}), ["ops"]), app.executions,
                        retry_delays=(0.05, 0.1, 0.2))
    notifier.start()
    app.steps.append("notify-extra", notifier.on_run_finished)
    try:
        eid = run(app, data={"a": 1})
        entry = wait_notifications(app, eid)["ops"]
    finally:
        notifier.stop()
    assert entry["status"] == "sent" and entry["attempts"] == 3
    assert server.mailbox.refused == 2 and len(server.messages) == 1


def test_a_dead_profile_does_not_delay_another(make_app, smtp_server, smtp_ini):
    server = smtp_server()
    dead = {"hostname": "127.0.0.1", "port": free_port(), "security": "unencrypted",
            "from": "bots@example.org", "to": "soc@example.org"}
    ini = smtp_ini({"dead": dead, "ops": server})
    app = make_app(ini, ["dead", "ops"])   # default backoff: the dead one waits minutes
    eid = run(app, data={"a": 1})
    server.wait_for(1)
    entries = wait_notifications(app, eid, statuses=("sent", "retrying"))
    assert entries["ops"]["status"] == "sent" and entries["dead"]["status"] == "retrying"
    assert "attempt 1 failed: cannot connect" in entries["dead"]["message"]


def test_wrong_credentials_are_not_retried_and_the_password_never_logged(make_app, smtp_server,
                                                                          smtp_ini, caplog):
    server = smtp_server("starttls", credentials=("bots", "right-pw"))
    app = make_app(smtp_ini({"ops": server}, password="Wr0ng-Secret"), ["ops"])
    with caplog.at_level(logging.DEBUG):
        eid = run(app, data={"a": 1})
        entry = wait_notifications(app, eid)["ops"]
    assert entry["status"] == "failed" and entry["attempts"] == 1
    assert "535" in entry["message"]
    stored = json.dumps(execution(app, eid))
    assert "Wr0ng-Secret" not in stored and "Wr0ng-Secret" not in caplog.text
    assert execution(app, eid)["state"] == "succeeded"


def test_the_active_profiles_are_logged_at_start_up(make_app, smtp_server, smtp_ini, caplog):
    server = smtp_server("starttls", credentials=("bots", "pw-not-logged"))
    with caplog.at_level(logging.INFO, logger="bots_scheduler.notifications"):
        make_app(smtp_ini({"soc": server}), ["soc"])
    line = next(r.getMessage() for r in caplog.records if "profile soc" in r.getMessage())
    assert f"127.0.0.1:{server.port}" not in line and f"localhost:{server.port}" in line
    assert "starttls" in line and "AUTH as bots" in line and "soc@example.org" in line
    assert "pw-not-logged" not in caplog.text


def test_stopping_gives_queued_messages_one_last_attempt(make_app, smtp_server, smtp_ini):
    hold = threading.Event()
    server = smtp_server(hold=hold)
    app = make_app(smtp_ini({"ops": server}), ["ops"])
    first = run(app, data={"a": 1})
    second = run(app, data={"b": 2})
    hold.set()
    app.notifier.stop(timeout=10)
    assert [execution_of(m) for m in server.wait_for(2)] == [first, second]
    assert wait_notifications(app, second)["ops"]["status"] == "sent"
