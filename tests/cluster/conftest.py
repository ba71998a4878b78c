"""Cluster fixtures: real Celery workers on the machine's Redis and RabbitMQ, schedulers sharing
a PostgreSQL or MariaDB database, and a probe job that records which process ran each run."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import redis

from tests.notifications.conftest import smtp_ini, smtp_server, tls_files  # noqa: F401
from tests.ui.conftest import browser, ui  # noqa: F401  (the Cluster tab test)
from tests.support.databases import fresh_database
from tests.support.services import require

REDIS = "redis://127.0.0.1:6379/{db}"
RABBITMQ = "amqp://guest:guest@127.0.0.1:5672/{vhost}"

PROBE_JOB = '''
import os
import time
from bots_scheduler import *

class Probe(JobBase):
    """Appends "<execution id> <host> <pid>" to a ledger file, so that a test can count runs."""
    info = {"job_class_name": "Probe", "report_title": "Probe report",
            "arguments": [{"type": "string", "description": "ledger file"},
                          {"type": "string", "description": "seconds to sleep"}]}

    @report
    def run(self, ledger, seconds="0", *args):
        host = os.environ.get("BOTS_SCHEDULER_HOSTNAME", "")
        with open(ledger, "a") as handle:
            handle.write(f"{self.execution_id} {host} {os.getpid()}\\n")
        deadline = time.monotonic() + float(seconds)
        while time.monotonic() < deadline and not self.should_stop():
            time.sleep(0.05)
        self._data = {"probe": self.execution_id}
        return Section("Probe"), Text(f"ran in {host} pid {os.getpid()}"), Data(self._data)
'''


@pytest.fixture
def jobs_dir(workdir):
    folder = workdir / "jobs"
    folder.mkdir(exist_ok=True)
    (folder / "probe.py").write_text(PROBE_JOB)
    return folder


@pytest.fixture
def ledger(workdir) -> Path:
    return workdir / "ledger.txt"


def ledger_lines(path: Path) -> list[list[str]]:
    return [line.split() for line in path.read_text().splitlines()] if path.exists() else []


@pytest.fixture
def postgresql(workdir):
    with fresh_database("postgresql", workdir) as args:
        yield args


@pytest.fixture
def mysql(workdir):
    with fresh_database("mysql", workdir) as args:
        yield args


@pytest.fixture
def redis_broker():
    """An empty Redis database (15) as the broker; emptied again afterwards."""
    require("redis")
    url = REDIS.format(db=15)
    client = redis.Redis.from_url(url)
    client.flushdb()
    yield url
    client.flushdb()


@pytest.fixture
def rabbitmq_broker():
    """The RabbitMQ default vhost; the test's queue is purged before and after."""
    from kombu import Connection
    require("rabbitmq")
    url = RABBITMQ.format(vhost="")

    def purge():
        with Connection(url) as conn:
            channel = conn.channel()
            try:
                channel.queue_purge("bots_scheduler")
            except Exception:      # no such queue yet: nothing to purge
                pass
    purge()
    yield url
    purge()


class WorkerProcess:
    """A real ``bots-scheduler worker`` in its own process group."""

    def __init__(self, cwd: Path, args: list[str], host: str):
        self.cwd = Path(cwd)
        self.args = args
        self.host = host
        self.proc: subprocess.Popen | None = None

    def start(self, timeout: float = 40) -> "WorkerProcess":
        env = dict(os.environ, PYTHONUNBUFFERED="1", BOTS_SCHEDULER_HOSTNAME=self.host)
        tag = uuid.uuid4().hex[:6]
        self.stdout_path = self.cwd / f"worker-{self.host}-{tag}.out"
        self.stderr_path = self.cwd / f"worker-{self.host}-{tag}.err"
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bots_scheduler", "worker", "-n", self.host, *self.args],
            cwd=self.cwd, env=env, stdout=open(self.stdout_path, "wb"),
            stderr=open(self.stderr_path, "wb"), stdin=subprocess.DEVNULL,
            start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"worker exited with {self.proc.returncode}:\n"
                                   f"{self.stderr()[-3000:]}")
            if "is running" in self.stdout_path.read_text(errors="replace"):
                return self
            time.sleep(0.1)
        raise RuntimeError(f"worker not ready in {timeout}s:\n{self.stderr()[-3000:]}")

    @property
    def pid(self) -> int:
        return self.proc.pid

    def stderr(self) -> str:
        return self.stderr_path.read_text(errors="replace")

    def kill(self) -> None:
        """SIGKILL of the whole process group: a machine lost mid-run."""
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)

    def stop(self, timeout: float = 30) -> int | None:
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else None
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            return None


@pytest.fixture
def worker(workdir):
    """Factory: ``worker(host, *args)`` starts ``bots-scheduler worker`` as host ``host``."""
    started: list[WorkerProcess] = []

    def start(host: str, *args) -> WorkerProcess:
        proc = WorkerProcess(workdir, list(args), host).start()
        started.append(proc)
        return proc

    yield start
    for proc in started:
        proc.stop()


def wait_until(predicate, timeout: float, interval: float = 0.25, what: str = ""):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}; last: {last!r}")


def executions_of(srv, job_id: str) -> list[dict]:
    r = srv.get("/api/v1/executions", params={"job_id": job_id, "limit": 5000})
    assert r.status_code == 200, r.text
    return r.json()["executions"]


def cluster(srv) -> dict:
    r = srv.get("/api/v1/cluster")
    assert r.status_code == 200, r.text
    return r.json()
