"""Stopping an execution through the API: ``stopping`` then ``stopped``, with an audit entry."""
from __future__ import annotations

from tests.production.conftest import SHELL, SLEEPER, child_pid, executions_of, run_now, \
    wait_gone


def test_stopping_a_long_shell_run_kills_it_and_logs_who_stopped_it(server, prod_jobs):
    srv = server()
    job_id = srv.add_job(SHELL, "long", SLEEPER, hour="3")
    eid = run_now(srv, job_id)
    pid = child_pid(srv, prod_jobs)
    response = srv.api("DELETE", f"/api/v1/executions/{eid}")
    assert response.status_code == 200
    assert response.json() == {"execution_id": eid, "state": "stopping"}
    done = srv.wait_execution(eid, states=("stopped",), timeout=20)
    assert "stopped on request" in done["description"]
    assert wait_gone(pid)
    logs = srv.get("/api/v1/logs", params={"event": "stopped"}).json()["logs"]
    assert len(logs) == 1 and logs[0]["job_id"] == job_id and eid in logs[0]["description"]
    assert logs[0]["user"] == srv.get("/api/v1/info").json()["user"]


def test_a_python_job_that_ignores_the_stop_is_abandoned_and_recorded_stopped(
        server, prod_jobs):
    srv = server()
    job_id = srv.add_job("prodjobs.Stubborn", "stubborn", [300], hour="3")
    eid = run_now(srv, job_id)
    srv.wait_execution(eid, states=("running",))
    assert srv.api("DELETE", f"/api/v1/executions/{eid}").status_code == 200
    assert srv.get(f"/api/v1/executions/{eid}").json()["state"] in ("stopping", "stopped")
    done = srv.wait_execution(eid, states=("stopped",), timeout=30)
    assert "abandoned" in done["description"]


def test_a_queued_retry_can_be_stopped_before_it_starts(server, prod_jobs):
    srv = server()
    job_id = srv.add_job("prodjobs.Broken", "broken", [], hour="3", retries=3, retry_delay=30)
    run_now(srv, job_id)
    retry = srv.wait_for(lambda: [e for e in executions_of(srv, job_id)
                                  if e["state"] == "scheduled" and e["attempt"] == 2],
                         what="the queued retry")[0]
    response = srv.api("DELETE", f"/api/v1/executions/{retry['execution_id']}")
    assert response.json()["state"] == "stopped"
    assert srv.get(f"/api/v1/executions/{retry['execution_id']}").json()["state"] == "stopped"


def test_stopping_an_ended_or_unknown_execution_is_refused(server, prod_jobs):
    srv = server()
    job_id = srv.add_job("prodjobs.Quick", "quick", [], hour="3")
    eid = run_now(srv, job_id)
    srv.wait_execution(eid)
    ended = srv.api("DELETE", f"/api/v1/executions/{eid}")
    assert ended.status_code == 409 and "already ended" in ended.json()["error"]
    unknown = srv.api("DELETE", "/api/v1/executions/nope")
    assert unknown.status_code == 404 and "error" in unknown.json()
    assert srv.api("DELETE", "/api/v1/executions").status_code == 405
    assert srv.get("/api/v1/logs", params={"event": "stopped"}).json()["logs"] == []
