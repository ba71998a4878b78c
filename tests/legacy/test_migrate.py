"""``bots-scheduler migrate``: a datastore made by the real ndscheduler 0.3.0 (and rows of the
original Bots Scheduler) copied into the configured one, on SQLite, PostgreSQL and MariaDB."""
from __future__ import annotations

import os
import pickle
import sqlite3
import textwrap
from pathlib import Path

import pytest
import sqlalchemy

from bots_scheduler.cli.definition import build_parser
from bots_scheduler.datastore.store import Datastore
from bots_scheduler.executions.store import ExecutionStore
from bots_scheduler.settings import database_settings
from tests.cli.test_run_command import cli
from tests.legacy.sources import MANIFEST, server_source, sqlite_source

pytestmark = pytest.mark.integration     # starts bots-scheduler or mitmproxy processes

SPAN = {"time_range_start": "2000-01-01T00:00:00+00:00",
        "time_range_end": "2100-01-01T00:00:00+00:00", "limit": 1000}
CRON = ("month", "week", "day", "day_of_week", "hour", "minute")
ORIGINAL_EID = MANIFEST["original_rows"]["execution_id"]


def migrate(workdir, *args):
    return cli("migrate", *args, cwd=workdir, timeout=120)


def counts(output: str) -> dict[str, str]:
    """{'jobs': '7 copied, 0 already there, 0 skipped', ...} from the summary."""
    found = {}
    for line in output.splitlines():
        for label in ("jobs", "executions", "audit log entries"):
            if line.startswith(f"{label}: "):
                found[label] = line.split(": ", 1)[1]
    return found


def target(database_args, workdir) -> Datastore:
    options = build_parser().parse_args(["run", *database_args])
    return Datastore(database_settings(options, Path(workdir) / "data"), pool_size=1)


def test_jobs_executions_and_logs_arrive_as_ndscheduler_showed_them(server, workdir,
                                                                       database):
    old = sqlite_source(workdir)
    done = migrate(workdir, f"sqlite:///{old}", *database)
    assert done.returncode == 0, done.stderr
    assert counts(done.stdout) == {"jobs": "7 copied, 0 already there, 0 skipped",
                                   "executions": "5 copied, 0 already there, 0 skipped",
                                   "audit log entries": "17 copied, 0 already there, 0 skipped"}
    srv = server(*database)
    jobs = {job["job_id"]: job for job in srv.get("/api/v1/jobs").json()["jobs"]}
    for shown in MANIFEST["jobs"]:
        job = jobs[shown["job_id"]]
        assert job["name"] == shown["name"]
        assert job["pub_args"] == shown["pub_args"]
        assert {name: job[name] for name in CRON} == {name: shown[name] for name in CRON}
        assert (job["next_run_time"] == "") == (shown["next_run_time"] == "")
    original = jobs[MANIFEST["ids"]["original"]]
    assert original["job_class_string"] == "haveibeenpwned.HaveIBeenPwnedJob"
    assert jobs["brussels0quarterly0last0day00000"]["timezone"] == "Europe/Brussels"

    executions = {e["execution_id"]: e for e in
                  srv.get("/api/v1/executions", params=SPAN).json()["executions"]}
    shown_executions = {e["execution_id"]: e for e in MANIFEST["executions"]}
    assert set(executions) == set(shown_executions) | {ORIGINAL_EID}
    for eid, shown in shown_executions.items():
        assert executions[eid]["state"] == shown["state"]
        assert executions[eid]["scheduled_time"][:19] == shown["scheduled_time"][:19]
        assert executions[eid]["job"]["name"] == shown["job"]["name"]

    logs = srv.get("/api/v1/logs", params=SPAN).json()["logs"]
    assert sorted(log["event"] for log in logs) == sorted(
        [log["event"] for log in MANIFEST["logs"]] + ["file added", "file deleted"])
    [modified] = [log for log in logs if log["event"] == "modified"]
    assert modified["description"] == ("pub_args: ('first', 'second') → ['first', 'changed']; "
                                       "minute: 30 → 45")
    runs = {log["description"] for log in logs if log["event"] == "custom_run"}
    assert runs == {log["description"] or "" for log in MANIFEST["logs"]
                    if log["event"] == "custom_run"}


def test_reports_of_both_kinds_are_escaped_or_sanitised(server, workdir):
    old = sqlite_source(workdir)
    with sqlite3.connect(old) as conn:
        conn.execute("UPDATE scheduler_execution SET result = ? WHERE eid = ?",
                     ('"<html><body><h2>Found</h2><script>alert(1)</script>'
                      '<img src=\\"https://tracker.example/x.png\\" onerror=\\"alert(2)\\">'
                      '<ul><li>alice@example.com</li></ul><p style=\\"color:red\\">x</p>'
                      '</body></html>"', ORIGINAL_EID))
    assert migrate(workdir, f"sqlite:///{old}").returncode == 0
    srv = server()
    kept = srv.get(f"/api/v1/executions/{ORIGINAL_EID}").json()["result"]
    assert "<h2>Found</h2>" in kept and "<li>alice@example.com</li>" in kept
    assert "<script" not in kept and "alert" not in kept and "tracker.example" not in kept
    assert "style=" not in kept and "<p>x</p>" in kept
    assert 'class="bots-report"' in kept
    shown = {e["execution_id"]: e for e in MANIFEST["executions"]}
    succeeded = next(eid for eid, e in shown.items() if e["result"].startswith("[\n"))
    listing = srv.get(f"/api/v1/executions/{succeeded}").json()["result"]
    assert "first" in listing and "second" in listing and 'class="bots-report"' in listing
    failed = next(eid for eid, e in shown.items() if e["state"] == "failed")
    traceback = srv.get(f"/api/v1/executions/{failed}").json()["result"]
    assert "FileNotFoundError" in traceback and "<pre" in traceback


def test_a_second_migrate_copies_nothing(workdir, database):
    old = sqlite_source(workdir)
    assert migrate(workdir, f"sqlite:///{old}", *database).returncode == 0
    again = migrate(workdir, f"sqlite:///{old}", *database)
    assert again.returncode == 0, again.stderr
    assert counts(again.stdout) == {"jobs": "0 copied, 7 already there, 0 skipped",
                                    "executions": "0 copied, 5 already there, 0 skipped",
                                    "audit log entries": "0 copied, 17 already there, 0 skipped"}
    store = target(database, workdir)
    try:
        with store.engine.connect() as conn:
            logs = conn.execute(sqlalchemy.select(sqlalchemy.func.count())
                                .select_from(store.tables.logs)).scalar()
            executions = conn.execute(sqlalchemy.select(sqlalchemy.func.count())
                                      .select_from(store.tables.executions)).scalar()
    finally:
        store.dispose()
    assert (logs, executions) == (17, 5)


def test_dry_run_prints_the_plan_and_writes_nothing(workdir, database):
    old = sqlite_source(workdir)
    done = migrate(workdir, f"sqlite:///{old}", "--dry-run", *database)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("dry run: nothing written")
    assert counts(done.stdout)["jobs"] == "7 would be copied, 0 already there, 0 skipped"
    assert not (workdir / "data").exists()
    store = target(database, workdir)
    try:
        assert sqlalchemy.inspect(store.engine).get_table_names() == []
    finally:
        store.dispose()
        (workdir / "data" / "datastore.db").unlink(missing_ok=True)


class Touch:
    def __init__(self, path):
        self.path = str(path)

    def __reduce__(self):
        return os.system, (f"touch {self.path}",)


def test_a_hostile_jobs_row_does_not_run_and_the_other_rows_are_copied(server, workdir):
    marker = workdir / "pwned"
    old = sqlite_source(workdir)
    state = pickle.dumps({"version": 1, "id": "evil", "func": "x:run_job",
                          "args": ("a.B", "evil"), "kwargs": {"x": Touch(marker)}}, protocol=4)
    with sqlite3.connect(old) as conn:
        conn.execute("INSERT INTO scheduler_jobs (id, next_run_time, job_state) VALUES "
                     "('evil', 1.0, ?)", (state,))
    done = migrate(workdir, f"sqlite:///{old}")
    assert done.returncode == 0, done.stderr
    assert not marker.exists()
    assert counts(done.stdout)["jobs"] == "7 copied, 0 already there, 1 skipped"
    assert "scheduler_jobs id evil: the stored state names posix.system" in done.stdout
    srv = server()
    assert "evil" not in {job["job_id"] for job in srv.get("/api/v1/jobs").json()["jobs"]}
    assert not marker.exists()


def test_rows_that_cannot_be_read_are_listed_at_the_end_and_skipped(workdir):
    old = sqlite_source(workdir)
    with sqlite3.connect(old) as conn:
        conn.execute("INSERT INTO scheduler_jobs VALUES ('cut', 1.0, ?)", (b"\x80\x04\x95",))
        conn.execute("INSERT INTO scheduler_execution (eid, state, scheduled_time, job_id) "
                     "VALUES ('badstate', 42, '2026-01-01 00:00:00', 'x')")
        conn.execute("INSERT INTO scheduler_execution (eid, state, scheduled_time, job_id) "
                     "VALUES ('badtime', 5, 'yesterday', 'x')")
        conn.execute("INSERT INTO scheduler_jobauditlog VALUES ('x', 'x', 9, '', "
                     "'2026-01-01 00:00:00', '')")
    done = migrate(workdir, f"sqlite:///{old}")
    assert done.returncode == 0, done.stderr
    assert counts(done.stdout) == {"jobs": "7 copied, 0 already there, 1 skipped",
                                   "executions": "5 copied, 0 already there, 2 skipped",
                                   "audit log entries": "17 copied, 0 already there, 1 skipped"}
    tail = done.stdout.split("rows skipped (4)", 1)[1]
    for expected in ("scheduler_jobs id cut: job_state cannot be read",
                     "scheduler_execution eid badstate: unknown execution state 42",
                     "scheduler_execution eid badtime: scheduled_time 'yesterday' is not a time",
                     "scheduler_jobauditlog entry of 2026-01-01 00:00:00 (job x): unknown "
                     "audit event 9"):
        assert expected in tail


@pytest.mark.parametrize("kind", ["postgresql", "mysql"])
def test_postgresql_and_mariadb_sources(workdir, kind):
    with server_source(kind) as url:
        done = migrate(workdir, url)
        assert done.returncode == 0, done.stderr
        assert counts(done.stdout) == {
            "jobs": "7 copied, 0 already there, 0 skipped",
            "executions": "5 copied, 0 already there, 0 skipped",
            "audit log entries": "17 copied, 0 already there, 0 skipped"}
        assert counts(migrate(workdir, url).stdout)["audit log entries"] == \
            "0 copied, 17 already there, 0 skipped"
    store = target([], workdir)
    try:
        view = ExecutionStore(store.engine, store.tables).get(ORIGINAL_EID)
        paused = store.engine.connect().execute(sqlalchemy.text(
            "SELECT next_run_time FROM scheduler_jobs WHERE id = :id"),
            {"id": MANIFEST["ids"]["nightly"]}).scalar()
    finally:
        store.dispose()
    assert view["state"] == "succeeded" and "Breaches found" in view["result"]
    assert paused is None


def test_the_original_table_names_are_chosen_with_the_from_options(workdir):
    old = sqlite_source(workdir)
    with sqlite3.connect(old) as conn:
        conn.execute("ALTER TABLE scheduler_execution RENAME TO scheduler_executions")
        conn.execute("ALTER TABLE scheduler_jobauditlog RENAME TO scheduler_jobauditlogs")
    missing = migrate(workdir, f"sqlite:///{old}")
    assert missing.returncode == 2 and missing.stdout == ""
    assert missing.stderr.count("\n") == 1 and "--from-executions-table" in missing.stderr
    done = migrate(workdir, f"sqlite:///{old}", "--from-executions-table",
                   "scheduler_executions", "--from-logs-table", "scheduler_jobauditlogs")
    assert done.returncode == 0, done.stderr
    assert counts(done.stdout)["executions"] == "5 copied, 0 already there, 0 skipped"


@pytest.mark.parametrize("url, message", [
    ("nonsense", "is not a database URL"),
    ("sqlite:///{workdir}/missing.db", "does not exist"),
    ("oracle://u@h/db", "'oracle' databases are not supported"),
    ("postgresql://nobody@127.0.0.1:1/none", "cannot read postgresql://nobody@127.0.0.1:1/none"),
])
def test_a_source_that_cannot_be_used_ends_with_one_line_and_status_2(workdir, url, message):
    done = migrate(workdir, url.format(workdir=workdir))
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and message in done.stderr
    assert "Traceback" not in done.stderr
    assert not (workdir / "missing.db").exists() and not (workdir / "data").exists()


def test_the_old_datastore_cannot_be_its_own_target(workdir):
    data = workdir / "data"
    data.mkdir()
    old = sqlite_source(data, "datastore.db")
    done = migrate(workdir, f"sqlite:///{old}")
    assert done.returncode == 2 and "would be overwritten" in done.stderr


def test_a_copied_job_of_the_original_runs_once_its_module_is_in_the_jobs_folder(server,
                                                                                   workdir):
    old = sqlite_source(workdir)
    (workdir / "jobs").mkdir()
    (workdir / "jobs" / "haveibeenpwned.py").write_text(textwrap.dedent('''
        from botscheduler import *

        class HaveIBeenPwnedJob(JobBase):
            info = {'job_class_name': "HIBP", 'arguments': [{'type': 'file', 'description': 'x'}]}

            @report
            def run(self, path, **kwargs):
                return [Section("checked"), Text(path.rsplit("/", 1)[-1])]
    '''))
    (workdir / "data").mkdir()
    (workdir / "data" / "emails.txt").write_text("alice@example.com\n")
    done = migrate(workdir, f"sqlite:///{old}")
    assert "haveibeenpwned.HaveIBeenPwnedJob" not in done.stdout     # its class is found
    srv = server()
    eid = srv.post(f"/api/v1/executions/{MANIFEST['ids']['original']}").json()["execution_id"]
    execution = srv.wait_execution(eid)
    assert execution["state"] == "succeeded" and "emails.txt" in execution["result"]


def test_the_server_does_not_start_on_an_ndscheduler_datastore_and_leaves_it_alone(workdir):
    old = sqlite_source(workdir)
    before = dump(old)
    (workdir / "conf").mkdir()
    (workdir / "conf" / "db.ini").write_text(f"[sqlite]\nfile_path = {old}\n")
    for command in (["run", "--local"], ["export"]):
        done = cli(*command, cwd=workdir)
        assert done.returncode == 2, done.stderr
        assert "bots-scheduler migrate" in done.stderr and "Traceback" not in done.stderr
    assert dump(old) == before


def dump(path) -> list:
    with sqlite3.connect(path) as conn:
        return [(table, sorted(conn.execute(f"SELECT * FROM {table}")))
                for (table,) in conn.execute("SELECT name FROM sqlite_master WHERE type = "
                                             "'table' ORDER BY name")]
