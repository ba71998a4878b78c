"""Jobs survive restarts; executions interrupted by a crash or a stop are recorded as such."""
from __future__ import annotations

import signal
import time
from datetime import datetime, timedelta, timezone

import pytest

HELLO = "bots_scheduler.jobs.builtin.sample.HelloJob"

SLOW_JOB = '''
import time
from bots_scheduler import *

class Slow(JobBase):
    info = {"job_class_name": "Slow"}

    @report
    def run(self, seconds, ignore_stop=False, *args):
        deadline = time.monotonic() + float(seconds)
        while time.monotonic() < deadline:
            if self.should_stop() and not ignore_stop:
                break
            time.sleep(0.05)
        return Text("done")
'''


@pytest.fixture
def jobs_dir(workdir):
    folder = workdir / "jobs"
    folder.mkdir()
    (folder / "slow.py").write_text(SLOW_JOB)
    return folder


def running(srv):
    return [e for e in srv.get("/api/v1/executions").json()["executions"]
            if e["state"] == "running"]


def test_jobs_persist_across_a_restart(server, database):
    srv = server(*database)
    job_id = srv.add_job(HELLO, "persistent", ["p"], minute="0", hour="3")
    srv.api("PATCH", f"/api/v1/jobs/{job_id}")
    assert srv.stop() == 0
    srv.start()
    job = srv.get(f"/api/v1/jobs/{job_id}").json()
    assert (job["name"], job["pub_args"], job["hour"], job["next_run_time"]) == \
        ("persistent", ["p"], "3", "")


def test_an_execution_killed_mid_run_is_failed_after_restart(server, database, jobs_dir):
    srv = server(*database)
    job_id = srv.add_job("slow.Slow", "slow", [60], minute="0", hour="0")
    eid = srv.post(f"/api/v1/executions/{job_id}").json()["execution_id"]
    srv.wait_for(lambda: running(srv), what="the run to start")
    srv.kill()
    srv.start()
    execution = srv.get(f"/api/v1/executions/{eid}").json()
    assert execution["state"] == "failed"
    assert "stopped unexpectedly" in execution["description"]


def test_sigterm_lets_a_short_run_finish_and_exits_0(server, jobs_dir):
    srv = server()
    job_id = srv.add_job("slow.Slow", "short", [2, True], minute="0", hour="0")
    eid = srv.post(f"/api/v1/executions/{job_id}").json()["execution_id"]
    srv.wait_for(lambda: running(srv), what="the run to start")
    srv.signal(signal.SIGTERM)
    assert srv.wait(30) == 0
    srv.start()
    assert srv.get(f"/api/v1/executions/{eid}").json()["state"] == "succeeded"


def test_sigint_records_a_run_that_outlives_the_grace_period_as_stopped(server, jobs_dir):
    srv = server()
    job_id = srv.add_job("slow.Slow", "stubborn", [120, True], minute="0", hour="0")
    eid = srv.post(f"/api/v1/executions/{job_id}").json()["execution_id"]
    srv.wait_for(lambda: running(srv), what="the run to start")
    began = time.monotonic()
    srv.signal(signal.SIGINT)
    assert srv.wait(60) == 0
    assert time.monotonic() - began < 40
    srv.start()
    execution = srv.get(f"/api/v1/executions/{eid}").json()
    assert execution["state"] == "stopped"
    assert "grace period" in execution["description"]


def test_a_cooperative_run_is_stopped_quickly_at_shutdown(server, jobs_dir):
    srv = server()
    job_id = srv.add_job("slow.Slow", "polite", [120], minute="0", hour="0")
    eid = srv.post(f"/api/v1/executions/{job_id}").json()["execution_id"]
    srv.wait_for(lambda: running(srv), what="the run to start")
    srv.signal(signal.SIGTERM)
    assert srv.wait(30) == 0
    srv.start()
    assert srv.get(f"/api/v1/executions/{eid}").json()["state"] in ("stopped", "succeeded")


def _miss_three_firings(srv) -> list:
    """Schedule three firings a few seconds ahead, stay down across them, start again;
    return the executions that ran."""
    now = datetime.now(timezone.utc)
    seconds = ",".join(str((now.second + offset) % 60) for offset in (4, 5, 6))
    job_id = srv.add_job(HELLO, "missed", ["m"], second=seconds, minute="*")
    srv.stop()
    time.sleep(max(0.0, (now + timedelta(seconds=8) - datetime.now(timezone.utc)).total_seconds()))
    srv.start()
    time.sleep(2)
    return srv.get("/api/v1/executions", params={"job_id": job_id}).json()["executions"]


def test_runs_missed_while_down_run_once_when_coalescing(server):
    srv = server()
    assert len(_miss_three_firings(srv)) == 1


def test_runs_missed_while_down_all_run_without_coalescing(server):
    srv = server("--no-job-coalesce")
    assert len(_miss_three_firings(srv)) == 3


def test_runs_missed_beyond_the_misfire_grace_time_are_skipped(server):
    srv = server("--no-job-coalesce", "--job-misfire", "1")
    assert len(_miss_three_firings(srv)) == 0
