"""Per-job timeouts: a run past its limit ends ``timeout``, its processes are gone, and the
executor thread is free again even when the job ignores the stop signal."""
from __future__ import annotations

import pytest

from tests.production.conftest import SHELL, SLEEPER, child_pid, cli, run_now, wait_gone


def test_a_shell_job_past_its_timeout_ends_timeout_and_its_process_is_gone(
        server, prod_jobs):
    srv = server()
    job_id = srv.add_job(SHELL, "sleeper", SLEEPER, hour="3", timeout=2)
    eid = run_now(srv, job_id)
    pid = child_pid(srv, prod_jobs)
    done = srv.wait_execution(eid, timeout=30)
    assert done["state"] == "timeout"
    assert "timed out after 2 s" in done["result"]
    assert wait_gone(pid), f"process {pid} of the timed-out run still runs"


def test_the_run_option_is_the_default_and_a_job_may_set_its_own(server, prod_jobs):
    srv = server("--job-timeout", "2")
    short = srv.add_job("prodjobs.Polite", "default limit", [60], hour="3")
    longer = srv.add_job("prodjobs.Polite", "own limit", [4], hour="3", timeout=60)
    timed_out = srv.wait_execution(run_now(srv, short), timeout=30)
    assert timed_out["state"] == "timeout"
    assert "2 s timeout" in timed_out["description"]
    assert "Timeout" in timed_out["result"]
    assert srv.wait_execution(run_now(srv, longer), timeout=30)["state"] == "succeeded"


def test_a_python_job_that_ignores_the_stop_is_abandoned_and_frees_its_thread(
        server, prod_jobs):
    srv = server("--threadpool-size", "1")
    stubborn = srv.add_job("prodjobs.Stubborn", "stubborn", [300], hour="3", timeout=1)
    quick = srv.add_job("prodjobs.Quick", "quick", [], hour="3")
    done = srv.wait_execution(run_now(srv, stubborn), timeout=30)
    assert done["state"] == "timeout"
    assert "abandoned" in done["description"]
    # the only executor thread is free: another run gets it while the stubborn body still runs
    assert srv.wait_execution(run_now(srv, quick), timeout=20)["state"] == "succeeded"


@pytest.mark.parametrize("field,value", [("timeout", 0), ("timeout", -5), ("timeout", "60"),
                                         ("timeout", True), ("retries", 11), ("retries", 1.5),
                                         ("retry_delay", -1), ("retry_delay", 86401)])
def test_bad_timeout_and_retry_options_are_refused(server, field, value):
    srv = server()
    response = srv.post("/api/v1/jobs", json={
        "name": "x", "job_class_string": "bots_scheduler.jobs.builtin.sample.HelloJob",
        field: value})
    assert response.status_code == 400
    assert field in response.json()["error"]


def test_a_job_shows_and_clears_its_options(server):
    srv = server()
    job_id = srv.add_job("bots_scheduler.jobs.builtin.sample.HelloJob", "opts", ["x"],
                         timeout=30, retries=2, retry_delay=5)
    job = srv.get(f"/api/v1/jobs/{job_id}").json()
    assert (job["timeout"], job["retries"], job["retry_delay"]) == (30, 2, 5)
    assert srv.api("PUT", f"/api/v1/jobs/{job_id}", json={"timeout": None}).status_code == 200
    job = srv.get(f"/api/v1/jobs/{job_id}").json()
    assert (job["timeout"], job["retries"]) == (None, 2)


@pytest.mark.integration      # a bots-scheduler process
@pytest.mark.parametrize("value", ["abc", "-1", "604801"])
def test_a_bad_job_timeout_option_ends_run_with_one_line(workdir, value):
    result = cli(workdir, "run", "--local", "--job-timeout", value, timeout=30)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "--job-timeout" in result.stderr
