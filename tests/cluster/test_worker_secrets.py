"""CONTRACT §7 on Celery workers: task messages carry the reference, never the value; a worker
resolves it with the key it is given (BOTS_SCHEDULER_SECRET_KEY), and refuses to start without
it (one line, exit 2). Redis broker, PostgreSQL datastore."""
from __future__ import annotations

import base64
import hashlib
import shutil
import subprocess
import sys

import pytest
import redis

from tests.cluster.conftest import WorkerProcess, wait_until
from tests.secrets.jobmodule import KEYED, write_jobs
from tests.support.services import require

VALUE = "Worker-Secret-Value-4417"


@pytest.fixture
def own_redis():
    """A Redis database of its own (13): the other cluster tests' workers consume from 15, and
    this test reads its message while no worker of its own runs."""
    require("redis")
    url = "redis://127.0.0.1:6379/13"
    redis.Redis.from_url(url).flushdb()
    yield url
    redis.Redis.from_url(url).flushdb()


def test_a_worker_resolves_a_referenced_secret_that_no_message_carries(
        server, workdir, postgresql, own_redis, monkeypatch, tmp_path_factory):
    redis_broker = own_redis
    jobs = write_jobs(workdir)
    srv = server(*postgresql, *jobs, "--executor", "celery", "--broker", redis_broker)
    assert srv.post("/api/v1/secrets", json={"name": "api", "value": VALUE}).status_code == 201
    job_id = srv.add_job(KEYED, "keyed", [{"secret": "api"}, "via worker"], minute="0")
    # no worker yet: the run waits in the broker, where its message can be read
    eid = srv.post(f"/api/v1/executions/{job_id}").json()["execution_id"]
    client = redis.Redis.from_url(redis_broker)
    queued = wait_until(lambda: [client.lrange(key, 0, -1) for key in client.keys("*")
                                 if client.type(key) == b"list" and client.llen(key)], 40,
                        what=f"the queued task message of "
                             f"{srv.get(f'/api/v1/executions/{eid}').json()} "
                             f"{srv.stderr()[-2000:]}")
    raw = b"".join(b"".join(items) for items in queued)
    assert eid.encode() in raw or b"api" in raw
    decoded = raw + b"".join(_bodies(raw))
    assert VALUE.encode() not in decoded and b'"secret": "api"' in decoded.replace(
        b'"secret":"api"', b'"secret": "api"')

    # a worker on another machine: its own folder, the same jobs and database, no key file
    elsewhere = tmp_path_factory.mktemp("worker-host")
    shutil.copytree(workdir / "conf", elsewhere / "conf",
                    ignore=shutil.ignore_patterns("secret.key"))
    shutil.copytree(workdir / "jobs", elsewhere / "jobs")
    args = ["--broker", redis_broker, *postgresql, "-j", "jobs"]
    refused = subprocess.run([sys.executable, "-m", "bots_scheduler", "worker", *args],
                             cwd=elsewhere, capture_output=True, text=True, timeout=60)
    assert refused.returncode == 2, refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1 and "secret key" in refused.stderr
    monkeypatch.setenv("BOTS_SCHEDULER_SECRET_KEY",
                       (workdir / "conf" / "secret.key").read_text().strip())
    proc = WorkerProcess(elsewhere, args, "worker-keyed").start()
    try:
        run = srv.wait_execution(eid, timeout=90)
    except AssertionError as exc:
        raise AssertionError(f"{exc}\nworker stderr:\n{proc.stderr()[-3000:]}") from None
    finally:
        proc.stop()
    assert run["state"] == "succeeded", run["result"]
    assert run["hostname"] == "worker-keyed"
    assert hashlib.sha256(VALUE.encode()).hexdigest() in run["result"]
    assert VALUE not in proc.stderr()


def _bodies(raw: bytes):
    """Base64 bodies inside kombu's JSON envelopes (the task's arguments live there)."""
    text = raw.decode("utf-8", "replace")
    start = text.find('"body": "')
    while start >= 0:
        end = text.index('"', start + 9)
        try:
            yield base64.b64decode(text[start + 9:end])
        except ValueError:
            pass
        start = text.find('"body": "', end)
