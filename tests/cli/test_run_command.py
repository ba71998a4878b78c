"""`bots-scheduler run`: the option groups and defaults of CONTRACT §1, one-line errors with
exit status 2 for bad values, and options that really tune what they name."""
from __future__ import annotations

import socket
import sqlite3
import subprocess
import sys
import time

import pytest

from tests.support.server import free_port_pair

pytestmark = pytest.mark.integration     # starts bots-scheduler or mitmproxy processes

HELLO = "bots_scheduler.jobs.builtin.sample.HelloJob"


def cli(*args, cwd, timeout=60, stdin=None):
    return subprocess.run([sys.executable, "-m", "bots_scheduler", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=timeout, input=stdin)


def test_version(workdir):
    done = cli("--version", cwd=workdir)
    assert done.returncode == 0 and done.stdout.startswith("bots-scheduler ")


GROUPS = {
    "base options": ["--debug", "(default: False)", "-j JOBS, --jobs JOBS", "['jobs']",
                     "-d DATA_DIR, --data-dir DATA_DIR", "(default: data)", "-l, --local",
                     "-p PORT, --port PORT", "(default: 8888)"],
    "notification options": ["--smtp-config SMTP_CONFIG", "(default: conf/smtp.ini)",
                             "--smtp-profile [SMTP_PROFILE ...]"],
    "database options": ["--dbms {sqlite,postgresql,mysql}", "(default: sqlite)",
                         "--db-config DB_CONFIG", "(default: conf/db.ini)", "--db-profile",
                         "--executions-table EXECUTIONS_TABLE", "scheduler_execution",
                         "--jobs-table JOBS_TABLE", "scheduler_jobs",
                         "--files-table FILES_TABLE", "scheduler_files",
                         "--logs-table LOGS_TABLE", "scheduler_jobauditlog"],
    "APScheduler options": ["--job-coalesce, --no-job-coalesce", "(default: True)",
                            "--job-max-instances JOB_MAX", "(default: 3)",
                            "--job-misfire JOB_MISFIRE", "(default: 3600)",
                            "--threadpool-size TP_SIZE", "(default: 2)",
                            "--timezone TIMEZONE", "(default: UTC)"],
    "Tornado options": ["--max-workers TWORKERS", "(default: 8)"],
    "Mitmproxy options": ["--certificate CERTIFICATE", "(default: None)",
                          "--htpasswd HTPASSWD"],
}


def test_run_help_shows_every_group_option_and_default(workdir):
    done = cli("run", "--help", cwd=workdir)
    assert done.returncode == 0
    text = " ".join(done.stdout.split())
    positions = []
    for group, needles in GROUPS.items():
        assert f"{group}:" in text, group
        start = text.index(f"{group}:")
        positions.append(start)
        for needle in needles:
            assert needle in text[start:], (group, needle)
    assert positions == sorted(positions)


@pytest.mark.parametrize("args,needle", [
    (["-p", "0"], "--port"), (["-p", "65535"], "--port"), (["-p", "http"], "--port"),
    (["--timezone", "Mars/Olympus_Mons"], "--timezone"),
    (["--job-max-instances", "0"], "--job-max-instances"),
    (["--job-max-instances", "many"], "--job-max-instances"),
    (["--job-misfire", "-5"], "--job-misfire"),
    (["--threadpool-size", "0"], "--threadpool-size"),
    (["--max-workers", "0"], "--max-workers"),
    (["--executions-table", "x; DROP TABLE y"], "--executions-table"),
    (["--jobs-table", "1jobs"], "--jobs-table"),
    (["--files-table", "files-table"], "--files-table"),
    (["--logs-table", ""], "--logs-table"),
    (["--db-profile", "nosuchprofile"], "nosuchprofile"),
    (["--dbms", "postgresql", "--db-config", "missing.ini"], "missing.ini"),
    (["--dbms", "oracle"], "--dbms"),
    (["--certificate", "no-such.pem"], "no-such.pem"),
    (["--htpasswd", "no-such-htpasswd"], "no-such-htpasswd"),
    (["-j", "no-such-folder"], "no-such-folder"),
    (["--smtp-profile", "alerts", "--smtp-config", "none.ini"], "none.ini"),
    (["--unknown-option"], "unrecognized"),
])
def test_a_bad_value_is_one_line_on_stderr_and_exit_2(workdir, args, needle):
    (workdir / "conf").mkdir(exist_ok=True)
    (workdir / "conf" / "db.ini").write_text("[sqlite]\nfile_path =\n")
    done = cli("run", "--local", *args, cwd=workdir)
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0], done.stderr
    assert "Traceback" not in done.stderr
    assert not (workdir / "data").exists(), "nothing may start (or be created) on a bad value"


def test_an_unreachable_database_is_one_line_and_exit_2(workdir):
    port = free_port_pair()   # nothing listens there
    (workdir / "conf").mkdir()
    (workdir / "conf" / "db.ini").write_text(
        f"[postgresql]\nuser = postgres\nhostname = 127.0.0.1\nport = {port}\ndatabase = x\n")
    done = cli("run", "--local", "--dbms", "postgresql", cwd=workdir)
    assert done.returncode == 2
    assert len(done.stderr.strip().splitlines()) == 1
    assert "cannot reach the postgresql datastore" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_port_in_use_is_one_line_and_exit_2(workdir):
    port = free_port_pair()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", port + 1))
        taken.listen()
        done = cli("run", "--local", "-p", str(port), cwd=workdir)
    assert done.returncode == 2
    assert f"port {port + 1}" in done.stderr and "already in use" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_with_no_configuration_at_all_sqlite_lives_in_the_data_folder(server, workdir):
    srv = server("-d", "store")
    assert srv.get("/api/v1/jobs").status_code == 200
    assert (workdir / "store" / "datastore.db").is_file()


def test_table_options_name_the_tables(server, workdir):
    srv = server("--executions-table", "ex_t", "--jobs-table", "jobs_t", "--files-table",
                 "files_t", "--logs-table", "logs_t")
    job_id = srv.add_job(HELLO, "t")
    srv.wait_execution(srv.post(f"/api/v1/executions/{job_id}").json()["execution_id"])
    srv.stop()
    with sqlite3.connect(workdir / "data" / "datastore.db") as conn:
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master "
                                                 "WHERE type='table'")}
        assert {"ex_t", "jobs_t", "files_t", "logs_t"} <= tables
        assert "scheduler_execution" not in tables
        assert conn.execute("SELECT count(*) FROM ex_t").fetchone()[0] == 1
        assert conn.execute("SELECT count(*) FROM jobs_t").fetchone()[0] == 1


def test_the_timezone_option_is_the_default_zone_of_jobs(server):
    srv = server("--timezone", "Europe/Brussels")
    job = srv.get(f"/api/v1/jobs/{srv.add_job(HELLO, 'tz', hour='3', minute='0')}").json()
    assert job["timezone"] == "Europe/Brussels"
    assert job["next_run_time"].endswith(("+01:00", "+02:00"))
    own = srv.get(f"/api/v1/jobs/{srv.add_job(HELLO, 'ny', timezone='America/New_York')}").json()
    assert own["timezone"] == "America/New_York"


SLOW = '''
import time
from bots_scheduler import *

class Slow(JobBase):
    info = {"job_class_name": "Slow"}

    @report
    def run(self, seconds):
        time.sleep(float(seconds))
        return Text("done")
'''


def _max_concurrent(executions):
    spans = [(e["started_time"], e["finished_time"] or "9999") for e in executions
             if e["started_time"]]
    return max(sum(1 for s, f in spans if s <= start < f) for start, _ in spans)


def test_job_max_instances_caps_concurrent_runs_of_one_job(server, workdir):
    (workdir / "jobs").mkdir()
    (workdir / "jobs" / "slow.py").write_text(SLOW)
    srv = server("--job-max-instances", "1", "--threadpool-size", "4")
    srv.add_job("slow.Slow", "s", [2.5], second="*/1")
    time.sleep(6)
    runs = srv.get("/api/v1/executions").json()["executions"]
    assert runs and _max_concurrent(runs) == 1


def test_threadpool_size_caps_concurrent_runs_of_all_jobs(server, workdir):
    (workdir / "jobs").mkdir()
    (workdir / "jobs" / "slow.py").write_text(SLOW)
    srv = server("--threadpool-size", "1")
    for n in range(3):
        srv.add_job("slow.Slow", f"s{n}", [1.5], second="*/1")
    time.sleep(5)
    runs = srv.get("/api/v1/executions").json()["executions"]
    assert len(runs) >= 2 and _max_concurrent(runs) == 1


def test_three_runs_of_one_job_may_overlap_by_default(server, workdir):
    (workdir / "jobs").mkdir()
    (workdir / "jobs" / "slow.py").write_text(SLOW)
    srv = server("--threadpool-size", "4")
    srv.add_job("slow.Slow", "s", [3.5], second="*/1")
    time.sleep(6)
    runs = srv.get("/api/v1/executions").json()["executions"]
    assert _max_concurrent(runs) == 3
