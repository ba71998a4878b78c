"""Choosing the executor and the broker, starting workers, and SQLite's single instance: user
errors end the command with one line on stderr and exit status 2."""
from __future__ import annotations

import subprocess
import sys

import pytest

pytestmark = pytest.mark.integration     # starts bots-scheduler or mitmproxy processes


def cli(workdir, *args, timeout=60) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "bots_scheduler", *args], cwd=workdir,
                          capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL)


def one_line_error(result, *fragments):
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    for fragment in fragments:
        assert fragment in lines[0]


@pytest.mark.parametrize("args, fragment", [
    (["--executor", "celery"], "needs --broker"),
    (["--broker", "redis://127.0.0.1:6379/0"], "only used with --executor celery"),
    (["--executor", "celery", "--broker", "http://127.0.0.1:6379/0"], "redis:// or amqp://"),
    (["--executor", "celery", "--broker", "redis://127.0.0.1:1/0"], "cannot reach the broker"),
    (["--executor", "celery", "--broker", "amqp://guest:secret@127.0.0.1:1//"],
     "cannot reach the broker amqp://guest:***@127.0.0.1:1//"),
    (["--executor", "processes"], "invalid choice"),
])
def test_run_refuses_a_bad_executor_or_broker(workdir, args, fragment):
    result = cli(workdir, "run", "--local", *args)
    one_line_error(result, fragment)
    assert "secret" not in result.stderr


@pytest.mark.parametrize("args, fragment", [
    ([], "--broker"),
    (["--broker", "ftp://127.0.0.1/"], "redis:// or amqp://"),
    (["--broker", "redis://127.0.0.1:1/0"], "cannot reach the broker"),
    (["--broker", "redis://127.0.0.1:6379/0", "-c", "0"], "--concurrency must be at least 1"),
    (["--broker", "redis://127.0.0.1:6379/0", "-j", "missing"], "--jobs: missing"),
    (["--broker", "redis://127.0.0.1:6379/0", "--dbms", "postgresql"], "--db-config"),
])
def test_worker_refuses_bad_options(workdir, args, fragment):
    one_line_error(cli(workdir, "worker", *args), fragment)


def test_a_second_instance_on_the_same_sqlite_file_refuses_to_start(server, workdir):
    first = server()
    result = cli(workdir, "run", "--local", "-p", str(first.port + 10))
    one_line_error(result, "already used by another bots-scheduler run",
                   f"pid {first.proc.pid}", "PostgreSQL or MySQL")
    assert first.get("/api/v1/jobs").status_code == 200


def test_the_sqlite_file_is_free_again_once_its_instance_was_killed(server):
    first = server()
    first.kill()
    first.start()
    schedulers = first.get("/api/v1/cluster").json()["schedulers"]
    assert [(node["this"], node["leader"], node["pid"]) for node in schedulers] == \
        [(True, True, first.proc.pid)]
