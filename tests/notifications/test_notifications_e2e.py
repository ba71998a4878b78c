"""Notifications end to end: the real ``bots-scheduler`` process, a real SMTP server (aiosmtpd),
jobs scheduled and run through the REST API."""
from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

from tests.notifications.smtp_servers import free_port

pytestmark = pytest.mark.integration     # starts bots-scheduler or mitmproxy processes

JOBS = textwrap.dedent('''
    import json
    from bots_scheduler import *

    class Finder(JobBase):
        info = {"job_class_name": "Finder", "report_title": "Exposed services",
                "arguments": [{"type": "file", "description": "JSON data"}]}

        @report
        def run(self, path):
            with open(path) as handle:
                self._data = json.load(handle)
            return Section("Found"), Data(self._data)
''')


@pytest.fixture
def jobs_folder(workdir):
    (workdir / "jobs").mkdir()
    (workdir / "jobs" / "finders.py").write_text(JOBS)
    (workdir / "data").mkdir()
    return workdir


def cli(workdir, *args, timeout=60):
    return subprocess.run([sys.executable, "-m", "bots_scheduler", *args], cwd=workdir,
                          capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL)


def run_now(srv, job_id, workdir, data) -> dict:
    (workdir / "data" / "found.txt").write_text(json.dumps(data))
    response = srv.post(f"/api/v1/executions/{job_id}")
    assert response.status_code == 200, response.text
    return srv.wait_execution(response.json()["execution_id"])


def final_notifications(srv, eid, statuses=("sent", "failed", "skipped")):
    def ready():
        entries = srv.get(f"/api/v1/executions/{eid}").json()["notifications"]
        return entries if entries and all(e["status"] in statuses for e in entries) else None
    return {e["profile"]: e for e in srv.wait_for(ready, what=f"notifications of {eid}")}


def test_a_scheduled_job_in_change_mode_mails_first_nothing_then_the_difference(
        server, database, jobs_folder, smtp_server, smtp_ini):
    mail = smtp_server("starttls", credentials=("bots", "pw-e2e"))
    smtp_ini({"soc": mail})
    srv = server(*database, "--smtp-config", "smtp.ini", "--smtp-profile", "soc")
    assert "notifications: profile soc: localhost:" in srv.stderr()
    assert "pw-e2e" not in srv.stderr()
    job_id = srv.add_job("finders.Finder", "perimeter", ["found.txt"], minute="0",
                         notify_changes=True)

    first = run_now(srv, job_id, jobs_folder, {"10.0.0.1": [22, 80]})
    (received,) = mail.wait_for(1)
    assert received.message["Subject"] == "[Bots Scheduler] perimeter: Exposed services " \
                                          "(1 appeared, 0 disappeared)"
    assert received.login == "bots" and received.tls
    assert final_notifications(srv, first["execution_id"])["soc"]["status"] == "sent"

    second = run_now(srv, job_id, jobs_folder, {"10.0.0.1": [80, 22]})
    assert final_notifications(srv, second["execution_id"])["soc"]["status"] == "skipped"

    third = run_now(srv, job_id, jobs_folder, {"10.0.0.1": [22, 80, 3389]})
    messages = mail.wait_for(2)
    assert [m.message["X-Bots-Scheduler-Execution"] for m in messages] == \
        [first["execution_id"], third["execution_id"]]
    assert "Appeared\n\n10.0.0.1: 3389" in messages[1].part("plain")
    report = srv.get(f"/api/v1/executions/{third['execution_id']}").json()["result"]
    assert "Changes since the previous successful run" in report and "3389" in report
    assert third["state"] == "succeeded"
    assert "pw-e2e" not in json.dumps(srv.get("/api/v1/executions").json())


def test_two_profiles_each_get_the_report_of_a_run_with_data(server, jobs_folder, smtp_server,
                                                             smtp_ini):
    ops, soc = smtp_server("ssl"), smtp_server("unencrypted")
    smtp_ini({"ops": ops, "soc": soc})
    srv = server("--smtp-config", "smtp.ini", "--smtp-profile", "ops", "soc")
    job_id = srv.add_job("finders.Finder", "hosts", ["found.txt"], minute="0")
    quiet = run_now(srv, job_id, jobs_folder, {})
    found = run_now(srv, job_id, jobs_folder, {"10.0.0.7": [443]})
    for mailbox in (ops, soc):
        (received,) = mailbox.wait_for(1)
        assert received.message["X-Bots-Scheduler-Execution"] == found["execution_id"]
        assert "10.0.0.7" in received.part("html")
    assert set(final_notifications(srv, found["execution_id"])) == {"ops", "soc"}
    assert srv.get(f"/api/v1/executions/{quiet['execution_id']}").json()["notifications"] == []


def test_a_dead_smtp_server_leaves_the_run_succeeded_and_the_failure_visible(
        server, jobs_folder, smtp_ini):
    port = free_port()
    smtp_ini({"dead": {"hostname": "127.0.0.1", "port": port, "security": "unencrypted",
                       "from": "bots@example.org", "to": "soc@example.org"}})
    srv = server("--smtp-config", "smtp.ini", "--smtp-profile", "dead")
    job_id = srv.add_job("finders.Finder", "hosts", ["found.txt"], minute="0")
    execution = run_now(srv, job_id, jobs_folder, {"10.0.0.1": [22]})
    entry = final_notifications(srv, execution["execution_id"],
                                statuses=("retrying", "failed"))["dead"]
    assert f"cannot connect to 127.0.0.1:{port}" in entry["message"]
    assert srv.get(f"/api/v1/executions/{execution['execution_id']}").json()["state"] == \
        "succeeded"
    assert "profile dead" in srv.stderr()


@pytest.mark.parametrize("ini, profiles, expected", [
    (None, ["soc"], "smtp.ini not found"),
    ({"ops": {}}, ["soc"], "no profile 'soc' in smtp.ini (available: ops)"),
    ({"soc": {"port": 25, "from": "a@example.org", "to": "b@example.org"}}, ["soc"],
     "[soc]: missing hostname"),
    ({"soc": {"hostname": "h", "port": "x", "from": "a@example.org", "to": "b@example.org"}},
     ["soc"], "port must be a whole number"),
    ({"soc": {"hostname": "h", "port": 25, "security": "tls", "from": "a@example.org",
              "to": "b@example.org"}}, ["soc"], "security must be one of"),
])
def test_bad_smtp_configuration_stops_run_before_anything_starts(workdir, smtp_ini, ini,
                                                                 profiles, expected):
    if ini is not None:
        smtp_ini({name: {**fields} for name, fields in ini.items()})
    result = cli(workdir, "run", "--local", "--smtp-config", "smtp.ini",
                 "--smtp-profile", *profiles)
    assert result.returncode == 2
    assert expected in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr
    assert not (workdir / "data").exists()


def test_smtp_test_sends_a_test_message(workdir, smtp_server, smtp_ini):
    mail = smtp_server("ssl", credentials=("bots", "pw"))
    smtp_ini({"soc": mail})
    result = cli(workdir, "smtp-test", "soc", "--smtp-config", "smtp.ini")
    assert result.returncode == 0, result.stderr
    assert "smtp-test: profile soc: test message sent to soc@example.org" in result.stdout
    (received,) = mail.wait_for(1)
    assert received.message["Subject"] == "[Bots Scheduler] SMTP test: profile soc"
    assert "test message of Bots Scheduler's SMTP profile 'soc'" in received.part("plain")


def test_smtp_test_reports_a_refusal_in_one_line(workdir, smtp_server, smtp_ini):
    mail = smtp_server("starttls", credentials=("bots", "pw"))
    smtp_ini({"soc": mail}, password="nope-secret")
    result = cli(workdir, "smtp-test", "soc", "--smtp-config", "smtp.ini")
    assert result.returncode == 1
    assert result.stderr.strip() == ("bots-scheduler smtp-test: profile soc: not sent: "
                                     "authentication as 'bots' rejected: 535 5.7.8 "
                                     "Authentication credentials invalid")


def test_smtp_test_with_an_unknown_profile_exits_2(workdir, smtp_ini):
    smtp_ini({"ops": {"hostname": "h", "port": 25, "from": "a@example.org",
                      "to": "b@example.org"}})
    result = cli(workdir, "smtp-test", "soc", "--smtp-config", "smtp.ini")
    assert result.returncode == 2
    assert "no profile 'soc'" in result.stderr and "available: ops" in result.stderr
