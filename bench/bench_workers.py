"""Runs per second on Celery workers: one scheduler (``run --executor celery``) and 1, then 2,
``bots-scheduler worker`` processes on this machine, for short jobs: the built-in HelloJob
(instant) and a job that waits --wait seconds (like a call to a web service).

For each worker count: --runs run-now requests are POSTed by --clients concurrent clients, and
the clock stops when every one of those executions has ended (polled every 0.1 s).  The
datastore is a fresh PostgreSQL database (127.0.0.1:5432, user postgres) and the broker Redis
(db 14) unless --broker says otherwise.

    .venv/bin/python bench/bench_workers.py [--runs 300] [--concurrency 2] [--broker URL]

Figures only; no pass/fail exit status.  Both the scheduler and the workers share the machine's
cores with the database and the broker, so the second worker helps only as far as cores allow.
"""
from __future__ import annotations

import argparse
import concurrent.futures
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import psycopg
import requests

HELLO = "bots_scheduler.jobs.builtin.sample.HelloJob"
WAIT_JOB = """
import time
from bots_scheduler import *

class Wait(JobBase):
    info = {"job_class_name": "Wait"}

    @report
    def run(self, seconds, *args):
        time.sleep(float(seconds))
        return Text("waited")
"""
FINAL = {"succeeded", "failed", "timeout", "stopped", "scheduled error"}


def free_port() -> int:
    while True:
        with socket.socket() as a, socket.socket() as b:
            a.bind(("127.0.0.1", 0))
            port = a.getsockname()[1]
            try:
                b.bind(("127.0.0.1", port + 1))
            except OSError:
                continue
            return port


def spawn(folder: Path, name: str, *args) -> subprocess.Popen:
    log = open(folder / f"{name}.log", "wb")
    return subprocess.Popen([sys.executable, "-m", "bots_scheduler", *args], cwd=folder,
                            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                            env=dict(os.environ, PYTHONUNBUFFERED="1",
                                     BOTS_SCHEDULER_HOSTNAME=name),
                            start_new_session=True)


def wait_log(folder: Path, name: str, text: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if text in (folder / f"{name}.log").read_text(errors="replace"):
            return
        time.sleep(0.1)
    raise RuntimeError(f"{name} not ready:\n{(folder / f'{name}.log').read_text()[-2000:]}")


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


def measure(base: str, job_id: str, runs: int, clients: int) -> float:
    session = requests.Session()
    began = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(clients) as pool:
        eids = set(pool.map(lambda _i: session.post(f"{base}/api/v1/executions/{job_id}")
                            .json()["execution_id"], range(runs)))
    while True:
        executions = session.get(f"{base}/api/v1/executions",
                                 params={"job_id": job_id, "limit": 5000}).json()["executions"]
        done = {e["execution_id"] for e in executions if e["state"] in FINAL}
        if eids <= done:
            return time.monotonic() - began
        time.sleep(0.1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=300)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--concurrency", type=int, default=2, help="threads per worker")
    parser.add_argument("--broker", default="redis://127.0.0.1:6379/14")
    parser.add_argument("--wait", type=float, default=0.2,
                        help="seconds the second job waits")
    options = parser.parse_args()

    database = f"bs_bench_{uuid.uuid4().hex[:8]}"
    admin = {"host": "127.0.0.1", "user": "postgres", "dbname": "postgres", "autocommit": True}
    with psycopg.connect(**admin) as conn:
        conn.execute(f'CREATE DATABASE "{database}"')
    folder = Path(tempfile.mkdtemp(prefix="bench-workers-"))
    (folder / "conf").mkdir()
    (folder / "jobs").mkdir()
    (folder / "jobs" / "wait.py").write_text(WAIT_JOB)
    (folder / "conf" / "db.ini").write_text(
        f"[postgresql]\nuser = postgres\nhostname = 127.0.0.1\nport = 5432\n"
        f"database = {database}\nsslmode = disable\n")
    db = ["--dbms", "postgresql"]
    port = free_port()
    base = f"http://127.0.0.1:{port + 1}"
    scheduler = spawn(folder, "scheduler", "run", "--local", "-p", str(port), *db,
                      "--executor", "celery", "--broker", options.broker)
    workers: list[subprocess.Popen] = []
    try:
        wait_log(folder, "scheduler", "is running at")
        jobs = {"HelloJob": (HELLO, ["bench"]),
                 f"Wait {options.wait:g} s": ("wait.Wait", [options.wait])}
        job_ids = {label: requests.post(f"{base}/api/v1/jobs", json={
            "job_class_string": klass, "name": label, "pub_args": args,
            "minute": "0", "hour": "0"}).json()["job_id"] for label, (klass, args) in jobs.items()}
        print(f"{options.runs} run-now requests per job, {options.clients} clients, "
              f"{options.concurrency} threads per worker, broker {options.broker}, PostgreSQL")
        for count in (1, 2):
            while len(workers) < count:
                name = f"worker-{len(workers) + 1}"
                workers.append(spawn(folder, name, "worker", "--broker", options.broker,
                                     "-c", str(options.concurrency), "-n", name, *db))
                wait_log(folder, name, "is running")
            for label, job_id in job_ids.items():
                measure(base, job_id, 10, options.clients)        # warm-up
                runs = options.runs if label == "HelloJob" else max(
                    20, int(options.runs * 0.2 / max(options.wait, 0.01)) // 5)
                elapsed = measure(base, job_id, runs, options.clients)
                print(f"  {count} worker(s), {label:>11}: {runs / elapsed:7.1f} runs/s "
                      f"({elapsed:.2f} s for {runs} runs)")
    finally:
        for proc in [*workers, scheduler]:
            stop(proc)
        with psycopg.connect(**admin) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


if __name__ == "__main__":
    main()
