"""How fast ``bots-scheduler migrate`` copies a large ndscheduler 0.3 datastore.

    .venv/bin/python bench/migrate_bench.py [--executions 20000] [--logs 5000] [--jobs 200]

Builds, in a temp folder, an SQLite datastore with ndscheduler 0.3.0's tables: the jobs of the
test fixture (made by the real ndscheduler, tests/legacy/fixtures/) cloned under new ids, and
executions and audit entries cloned from its rows (a third each of JSON results, the original's
HTML reports and tracebacks). Then times ``migrate --dry-run``, ``migrate`` and a second
``migrate`` (nothing to copy) into a fresh SQLite datastore, and prints rows per second.
"""
from __future__ import annotations

import argparse
import json
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = ROOT / "tests" / "legacy" / "fixtures" / "ndscheduler-0.3.0.sqlite"


def build(path: Path, jobs: int, executions: int, logs: int) -> None:
    shutil.copyfile(FIXTURE, path)
    conn = sqlite3.connect(path)
    states = [row for row in conn.execute("SELECT id, next_run_time, job_state FROM "
                                          "scheduler_jobs")]
    results = [row[0] for row in conn.execute("SELECT result FROM scheduler_execution")]
    for number in range(jobs):
        job_id, next_run, state = states[number % len(states)]
        new_id = f"{number:032x}"
        conn.execute("INSERT INTO scheduler_jobs VALUES (?, ?, ?)",
                     (new_id, next_run, state.replace(job_id.encode(), new_id.encode())))
    conn.executemany(
        "INSERT INTO scheduler_execution (eid, hostname, pid, state, scheduled_time, "
        "updated_time, description, result, job_id, task_id) VALUES (?, 'h', 1, ?, ?, ?, 'd', "
        "?, ?, NULL)",
        ((f"e{number:031x}", (5, 4, 7)[number % 3],
          f"2025-{1 + number % 12:02d}-{1 + number % 28:02d} 10:00:{number % 60:02d}.{number:06d}",
          f"2025-{1 + number % 12:02d}-{1 + number % 28:02d} 10:01:00",
          results[number % len(results)], f"{number % jobs:032x}")
         for number in range(executions)))
    conn.executemany(
        "INSERT INTO scheduler_jobauditlog VALUES (?, 'job', ?, 'user', ?, ?)",
        ((f"{number % jobs:032x}", number % 8,
          f"2025-{1 + number % 12:02d}-{1 + number % 28:02d} 11:00:00.{number:06d}",
          json.dumps({"n": number})) for number in range(logs)))
    conn.commit()
    conn.close()


def timed(folder: Path, *args) -> tuple[float, str]:
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "bots_scheduler", "migrate", *args], cwd=folder,
                          capture_output=True, text=True, check=True)
    return time.perf_counter() - start, done.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--executions", type=int, default=20000)
    parser.add_argument("--logs", type=int, default=5000)
    parser.add_argument("--jobs", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        source = folder / "old.db"
        build(source, args.jobs, args.executions, args.logs)
        url = f"sqlite:///{source}"
        rows = args.jobs + 7 + args.executions + 5 + args.logs + 17
        for label, extra in (("dry run", ["--dry-run"]), ("migrate", []), ("again", [])):
            seconds, out = timed(folder, url, *extra)
            print(f"{label:8} {seconds:6.2f} s  {rows / seconds:8,.0f} rows/s   "
                  + " | ".join(line for line in out.splitlines()[1:4]))


if __name__ == "__main__":
    main()
