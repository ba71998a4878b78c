"""Fixtures of the production tests: test jobs in a jobs folder, helpers on real processes."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from datetime import datetime, timedelta, timezone

import pytest

JOBS = textwrap.dedent('''
    import time
    from pathlib import Path
    from bots_scheduler import *

    class Stubborn(JobBase):
        """Ignores the stop signal."""
        info = {"job_class_name": "Stubborn"}

        @report
        def run(self, seconds, *args):
            time.sleep(float(seconds))
            return Text("finished")

    class Polite(JobBase):
        """Stops as soon as it is asked to."""
        info = {"job_class_name": "Polite"}

        @report
        def run(self, seconds, *args):
            deadline = time.monotonic() + float(seconds)
            while time.monotonic() < deadline and not self.should_stop():
                time.sleep(0.05)
            return Text("polite end")

    class Flaky(JobBase):
        """Fails while its counter file (in the data folder) is below ``failures``; asks for a
        notification every time."""
        info = {"job_class_name": "Flaky"}

        @report
        def run(self, name, failures, *args):
            counter = Path(self.data_dir) / name
            count = int(counter.read_text()) if counter.exists() else 0
            counter.write_text(str(count + 1))
            self._notify = True
            if count < int(failures):
                raise RuntimeError(f"attempt {count + 1} fails")
            self._data = {"attempt": count + 1}
            return Text(f"succeeded on attempt {count + 1}")

    class Quick(JobBase):
        info = {"job_class_name": "Quick"}

        @report
        def run(self, *args):
            return Text("quick")

    class Broken(JobBase):
        info = {"job_class_name": "Broken"}

        @report
        def run(self, *args):
            raise RuntimeError("always broken")
''')

SHELL = "bots_scheduler.jobs.builtin.shell.ShellCommand"
# a command whose child records its pid in the data folder, then waits
SLEEPER = ["sh", "-c", "sleep 60 & echo $! > child.pid; wait"]


@pytest.fixture
def prod_jobs(workdir):
    (workdir / "jobs").mkdir()
    (workdir / "jobs" / "prodjobs.py").write_text(JOBS)
    (workdir / "data").mkdir()
    return workdir


def process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        with open(f"/proc/{pid}/stat") as stat:      # a zombie is not running any more
            return stat.read().split()[2] != "Z"
    except FileNotFoundError:
        return False


def wait_gone(pid: int, timeout: float = 10) -> bool:
    deadline = time.monotonic() + timeout
    while process_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    return not process_alive(pid)


def child_pid(srv, workdir) -> int:
    path = workdir / "data" / "child.pid"
    srv.wait_for(lambda: path.exists() and path.read_text().strip(), what="child.pid")
    return int(path.read_text())


def run_now(srv, job_id) -> str:
    response = srv.post(f"/api/v1/executions/{job_id}")
    assert response.status_code == 200, response.text
    return response.json()["execution_id"]


def executions_of(srv, job_id) -> list[dict]:
    """The job's executions, including retries due later (their scheduled_time is ahead)."""
    ahead = (datetime.now(timezone.utc) + timedelta(hours=1)).isoformat()
    rows = srv.get("/api/v1/executions", params={"job_id": job_id, "time_range_end": ahead}
                   ).json()["executions"]
    return sorted(rows, key=lambda e: e["attempt"])


def cli(workdir, *args, timeout=120, stdin=None):
    return subprocess.run([sys.executable, "-m", "bots_scheduler", *args], cwd=workdir,
                          capture_output=True, text=True, timeout=timeout,
                          input=stdin, stdin=None if stdin is not None else subprocess.DEVNULL)
