"""Does the scheduler keep up with 250 firings a second?  15,000 jobs (--jobs), each firing once a
minute at its own second (job i at second i % 60: 250 jobs per second), run by one scheduler
in this process (the Application of ``bots-scheduler run``, without its web server) with the
built-in HelloJob (instant), for --minutes whole minutes after a minute of warm-up.

Printed: firings due in the measured window, executions recorded and ended, firings a second,
and the lag of each run -- from the second it was due to the moment the scheduler recorded
it (the firings row), to its start (the ``bots_scheduler_schedule_lag_seconds`` metric) and to
its end -- as p50, p95, p99, max.

    .venv/bin/python bench/bench_firings.py [--jobs 15000] [--minutes 2] [--dbms sqlite]
                                            [--threadpool-size 2]

The datastore is SQLite in a temporary folder, or a fresh PostgreSQL / MariaDB database on this
machine (--dbms postgresql|mysql).  Figures only; no pass/fail exit status.  The machine's other
work shares the cores with it: bench/README.md has the figures and what they depended on.
"""
from __future__ import annotations

import argparse
import logging
import os
import statistics
import sys
import tempfile
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import sqlalchemy
from sqlalchemy import select

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bots_scheduler.app import Application, freeze_startup_objects  # noqa: E402
from bots_scheduler.settings import DatabaseSettings, Settings  # noqa: E402

HELLO = "bots_scheduler.jobs.builtin.sample.HelloJob"


def database(dbms: str, folder: Path) -> tuple[DatabaseSettings, callable]:
    """Settings of a fresh database, and a function that drops it."""
    if dbms == "sqlite":
        url = sqlalchemy.URL.create("sqlite", database=str(folder / "datastore.db"))
        return DatabaseSettings("sqlite", "sqlite", url), lambda: None
    name = f"bench_{uuid.uuid4().hex[:10]}"
    if dbms == "postgresql":
        admin = sqlalchemy.create_engine("postgresql+psycopg://postgres@127.0.0.1:5432/postgres",
                                         isolation_level="AUTOCOMMIT")
        url = sqlalchemy.URL.create("postgresql+psycopg", username="postgres",
                                    host="127.0.0.1", port=5432, database=name)
    else:
        admin = sqlalchemy.create_engine("mysql+pymysql://root@127.0.0.1:3306/",
                                         isolation_level="AUTOCOMMIT")
        url = sqlalchemy.URL.create("mysql+pymysql", username="root", host="127.0.0.1",
                                    port=3306, database=name)
    with admin.connect() as conn:
        conn.execute(sqlalchemy.text(f"CREATE DATABASE {name}"))

    def drop():
        with admin.connect() as conn:
            conn.execute(sqlalchemy.text(f"DROP DATABASE {name}"))
        admin.dispose()
    return DatabaseSettings(dbms, dbms, url), drop


def percentiles(values: list[float]) -> str:
    if not values:
        return "none"
    ordered = sorted(values)

    def at(q: float) -> float:
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]
    return (f"p50 {at(0.50):.3f} s, p95 {at(0.95):.3f} s, p99 {at(0.99):.3f} s, "
            f"max {ordered[-1]:.3f} s, mean {statistics.fmean(ordered):.3f} s")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=15000)
    parser.add_argument("--minutes", type=int, default=2)
    parser.add_argument("--dbms", choices=("sqlite", "postgresql", "mysql"), default="sqlite")
    parser.add_argument("--threadpool-size", type=int, default=2)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(message)s")

    # the pool may still hold queued runs at the end: the process exits without waiting for them
    with tempfile.TemporaryDirectory(ignore_cleanup_errors=True) as tmp:
        folder = Path(tmp)
        db, drop = database(args.dbms, folder)
        settings = Settings(database=db, data_dir=folder / "data",
                            jobs_dirs=(folder / "jobs",), smtp_config=folder / "none.ini",
                            threadpool_size=args.threadpool_size)
        app = Application(settings)
        try:
            app.prepare()
            app.scheduler.start(paused=True)
            began = time.monotonic()
            for index in range(args.jobs):
                app.scheduler.add_job({"job_class_string": HELLO, "name": f"job {index}",
                                       "pub_args": [str(index)], "minute": "*",
                                       "second": str(index % 60)}, "bench")
            print(f"{args.jobs} jobs added in {time.monotonic() - began:.1f} s "
                  f"({args.dbms}, --threadpool-size {args.threadpool_size})", flush=True)
            freeze_startup_objects()        # as Application.start does
            app.notifier.start()
            app.cluster.start(wakeup=app.scheduler.wakeup)
            app.scheduler.aps.resume()
            now = datetime.now(timezone.utc)
            # a minute of warm-up (the first due jobs are read, caches fill), then the window
            start = (now + timedelta(minutes=2)).replace(second=0, microsecond=0)
            end = start + timedelta(minutes=args.minutes)
            print(f"measuring {start:%H:%M:%S} to {end:%H:%M:%S} UTC", flush=True)
            time.sleep(max((end - datetime.now(timezone.utc)).total_seconds(), 0) + 15)
            app.scheduler.shutdown()
            lost = app.cluster.lease.leader is False
            table = app.datastore.tables.executions
            firings = app.executions.firings
            with app.datastore.engine.connect() as conn:
                rows = conn.execute(select(table.c.scheduled_time, table.c.started_time,
                                           table.c.finished_time, table.c.state,
                                           firings.c.created_time)
                                    .join(firings, firings.c.eid == table.c.eid).where(
                    table.c.scheduled_time >= start.replace(tzinfo=None),
                    table.c.scheduled_time < end.replace(tzinfo=None))).all()
        finally:
            app.runner.stop_all(0)      # queued runs are not started any more
            drop()
    due = args.jobs * args.minutes
    seconds = args.minutes * 60
    recorded = [(r.created_time - r.scheduled_time).total_seconds() for r in rows]
    started = [(r.started_time - r.scheduled_time).total_seconds() for r in rows
               if r.started_time]
    ended = [(r.finished_time - r.scheduled_time).total_seconds() for r in rows
             if r.finished_time]
    states: dict[str, int] = {}
    for r in rows:
        states[r.state] = states.get(r.state, 0) + 1
    print(f"due {due} firings in {seconds} s ({due / seconds:.0f}/s); recorded {len(rows)} "
          f"({len(rows) / seconds:.1f}/s); states {states}")
    print(f"lag to record: {percentiles(recorded)}")
    print(f"lag to start: {percentiles(started)}")
    print(f"lag to end:   {percentiles(ended)}")
    if lost:
        print("the scheduler lost the leader lease during the run (its renewal was starved)")
    return 0


if __name__ == "__main__":
    status = main()
    sys.stdout.flush()
    os._exit(status)       # pool threads may still be busy with a backlog
