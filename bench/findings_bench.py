"""Findings: how long recording a run of 10,000 findings takes, and how fast a default page of
GET /api/v1/findings answers with 1,000,000 findings stored (SQLite).

1. recording: a FindingStore on a fresh SQLite file (the server's engine and pragmas); run 1
   reports --run-size findings (all new), run 2 the same with 1 % changed, 1 % gone and 1 % new,
   run 3 the same again (all unchanged).  Each recording is timed (the figure the issue asks
   for is the longest).
2. listing: the table is filled to --stored findings (over 1,000 jobs, bulk inserts), then
   ``bots-scheduler run --local`` is started on that datastore and a default page
   (GET /api/v1/findings), a job's page and a filtered page are asked --samples times each over
   HTTP on a keep-alive connection: p50 and p95.

    .venv/bin/python bench/findings_bench.py [--run-size 10000] [--stored 1000000]

Figures only; no pass/fail exit status.
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from types import SimpleNamespace

import requests
import sqlalchemy

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bots_scheduler.datastore.store import make_engine  # noqa: E402
from bots_scheduler.findings import Finding  # noqa: E402
from bots_scheduler.jobs.finding import identity  # noqa: E402
from bots_scheduler.findings.store import FindingStore  # noqa: E402


def sqlite_settings(path: Path):
    return SimpleNamespace(dbms="sqlite", url=sqlalchemy.URL.create("sqlite", database=str(path)))


def ports(count: int, changed: int = 0, shift: int = 0) -> list[Finding]:
    return [Finding("open-port", f"10.{(n + shift) // 65536 % 256}.{(n + shift) // 256 % 256}."
                                 f"{(n + shift) % 256}:443/tcp",
                    f"HTTPS {'v2' if n < changed else 'v1'}", "low",
                    product="nginx", version="1.25", cves=["CVE-2023-44487"])
            for n in range(count)]


def bench_recording(folder: Path, size: int) -> None:
    engine = make_engine(sqlite_settings(folder / "record.db"), pool_size=2)
    store = FindingStore(engine)
    store.create_tables()
    one = size // 100
    runs = [("run 1: all new", ports(size)),
            ("run 2: 1 % changed, 1 % gone, 1 % new", ports(size, changed=one, shift=one)),
            ("run 3: all unchanged", ports(size, changed=one, shift=one))]
    now = datetime.now(timezone.utc)
    for number, (label, findings) in enumerate(runs, 1):
        started, cpu = time.perf_counter(), time.process_time()
        recorded = store.record("bench-job", "bench.Job", f"e{number:031d}", findings,
                                now + timedelta(minutes=number))
        took, cpu = time.perf_counter() - started, time.process_time() - cpu
        # CPU time too: on a shared machine the wall time moves with the others' load
        print(f"record {size:,} findings, {label}: {took * 1000:.0f} ms "
              f"(CPU {cpu * 1000:.0f} ms)  {recorded.counts.as_dict()}")
    engine.dispose()


def fill(path: Path, stored: int) -> None:
    engine = make_engine(sqlite_settings(path), pool_size=2)
    store = FindingStore(engine)
    store.create_tables()
    table = store.tables.findings
    start = datetime(2026, 1, 1)
    batch = []
    started = time.perf_counter()
    with engine.begin() as conn:
        for n in range(stored):
            job = f"job{n % 1000:04d}"
            key = f"10.{n // 65536 % 256}.{n // 256 % 256}.{n % 256}:{n % 7 + 20}/tcp"
            moment = start + timedelta(seconds=n * 17)
            batch.append({"ident": identity(job, "open-port", key), "job_id": job,
                          "job_class_string": "bench.Job", "kind": "open-port", "fkey": key,
                          "title": "SSH", "severity": ("info", "low", "high")[n % 3],
                          "details": '{"product":"OpenSSH"}', "digest": "0" * 64,
                          "state": "gone" if n % 10 == 0 else "open", "first_seen": moment,
                          "first_eid": "f" * 32, "last_seen": moment, "last_eid": "f" * 32,
                          "event_time": moment})
            if len(batch) == 20000:
                conn.execute(sqlalchemy.insert(table), batch)
                batch = []
        if batch:
            conn.execute(sqlalchemy.insert(table), batch)
    store.rebuild_counts()
    with engine.connect() as conn:
        conn.exec_driver_sql("ANALYZE")
    print(f"filled {stored:,} findings in {time.perf_counter() - started:.0f} s")
    engine.dispose()


def timed_gets(session, url: str, samples: int) -> tuple[float, float, int]:
    times = []
    for _ in range(samples):
        started = time.perf_counter()
        answer = session.get(url, timeout=60)
        times.append((time.perf_counter() - started) * 1000)
        answer.raise_for_status()
    body = answer.json()
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.95) - 1], body["total"]


def bench_listing(folder: Path, stored: int, samples: int) -> None:
    data = folder / "data"
    data.mkdir()
    fill(data / "datastore.db", stored)
    port = 18000 + os.getpid() % 2000
    command = [str(ROOT / ".venv/bin/bots-scheduler"), "run", "--local", "-p", str(port),
               "-d", str(data)]
    server = subprocess.Popen(command, cwd=folder, stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL, text=True)
    try:
        for line in server.stdout:
            if "is running at" in line:
                break
        base = f"http://127.0.0.1:{port + 1}/api/v1/findings"
        session = requests.Session()
        session.get(base, timeout=60)    # warm the page cache
        for label, query in (("default page", ""), ("one job", "?job_id=job0042"),
                             ("severity=high&state=open", "?severity=high&state=open"),
                             ("since a month ago", "?since=2026-06-01T00:00:00Z")):
            p50, p95, total = timed_gets(session, base + query, samples)
            print(f"GET /api/v1/findings {label:28s} p50 {p50:6.1f} ms  p95 {p95:6.1f} ms  "
                  f"(total {total:,})")
    finally:
        server.terminate()
        server.wait(30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run-size", type=int, default=10000)
    parser.add_argument("--stored", type=int, default=1000000)
    parser.add_argument("--samples", type=int, default=30)
    parser.add_argument("--only", choices=["record", "list"], default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="findings-bench-") as folder:
        if args.only in (None, "record"):
            bench_recording(Path(folder), args.run_size)
        if args.only in (None, "list"):
            bench_listing(Path(folder), args.stored, args.samples)


if __name__ == "__main__":
    main()
