"""The jobs API of CONTRACT §3, against a real server process, on every datastore."""
from __future__ import annotations

import sqlite3

HELLO = "bots_scheduler.jobs.builtin.sample.HelloJob"


def test_a_job_added_every_second_runs_and_reports(server, database):
    srv = server(*database)
    job_id = srv.add_job(HELLO, "greeter", ["<b>alice</b>"], second="*/1")
    execs = srv.wait_for(lambda: [e for e in srv.get("/api/v1/executions").json()["executions"]
                                  if e["state"] == "succeeded"], what="a succeeded run")
    execution = srv.get(f"/api/v1/executions/{execs[0]['execution_id']}").json()
    assert execution["job"]["job_id"] == job_id
    assert execution["job"]["name"] == "greeter"
    assert "Hello, &lt;b&gt;alice&lt;/b&gt;!" in execution["result"]
    assert "<b>alice" not in execution["result"]
    for key in ("execution_id", "job", "state", "hostname", "pid", "scheduled_time",
                "updated_time", "description", "result", "task_id"):
        assert key in execution


def test_job_object_has_the_contract_fields(server, database):
    srv = server(*database)
    job_id = srv.add_job(HELLO, "shape", ["x", 0], minute="*/5", hour="1-3", day_of_week="mon")
    job = srv.get(f"/api/v1/jobs/{job_id}").json()
    assert job["job_id"] == job_id and job["name"] == "shape"
    assert job["job_class_string"] == HELLO and job["pub_args"] == ["x", 0]
    assert (job["minute"], job["hour"], job["day_of_week"]) == ("*/5", "1-3", "mon")
    assert (job["month"], job["week"], job["day"]) == ("*", "*", "*")
    assert job["next_run_time"].endswith("+00:00")
    listed = srv.get("/api/v1/jobs").json()["jobs"]
    assert [j["job_id"] for j in listed] == [job_id]


def test_pause_resume_modify_delete_are_audited(server, database):
    srv = server(*database)
    job_id = srv.add_job(HELLO, "audited", ["a"], minute="0")
    assert srv.api("PATCH", f"/api/v1/jobs/{job_id}").json() == {"job_id": job_id}
    assert srv.get(f"/api/v1/jobs/{job_id}").json()["next_run_time"] == ""
    assert srv.api("OPTIONS", f"/api/v1/jobs/{job_id}").json() == {"job_id": job_id}
    assert srv.get(f"/api/v1/jobs/{job_id}").json()["next_run_time"] != ""
    r = srv.api("PUT", f"/api/v1/jobs/{job_id}", json={"name": "renamed", "minute": "30"})
    assert r.status_code == 200 and r.json() == {"job_id": job_id}
    job = srv.get(f"/api/v1/jobs/{job_id}").json()
    assert (job["name"], job["minute"], job["pub_args"]) == ("renamed", "30", ["a"])
    assert srv.api("DELETE", f"/api/v1/jobs/{job_id}").json() == {"job_id": job_id}
    assert srv.get(f"/api/v1/jobs/{job_id}").status_code == 404
    logs = srv.get("/api/v1/logs").json()["logs"]
    events = [entry["event"] for entry in reversed(logs)]
    assert events == ["added", "paused", "resumed", "modified", "deleted"]
    modified = next(entry for entry in logs if entry["event"] == "modified")
    assert "name: 'audited' → 'renamed'" in modified["description"]
    assert "minute: '0' → '30'" in modified["description"]
    assert all(entry["user"] for entry in logs)


def test_modifying_a_paused_job_keeps_it_paused(server):
    srv = server()
    job_id = srv.add_job(HELLO, "p", minute="0")
    srv.api("PATCH", f"/api/v1/jobs/{job_id}")
    srv.api("PUT", f"/api/v1/jobs/{job_id}", json={"minute": "15"})
    job = srv.get(f"/api/v1/jobs/{job_id}").json()
    assert job["next_run_time"] == "" and job["minute"] == "15"


def test_run_now_returns_an_execution_that_succeeds(server):
    srv = server()
    job_id = srv.add_job(HELLO, "now", ["bob"], minute="0", hour="0")
    r = srv.post(f"/api/v1/executions/{job_id}")
    assert r.status_code == 200
    execution = srv.wait_execution(r.json()["execution_id"])
    assert execution["state"] == "succeeded"
    assert "Hello, bob!" in execution["result"]
    assert [e["event"] for e in srv.get("/api/v1/logs").json()["logs"]][0] == "custom_run"


def test_a_change_and_its_audit_entry_are_written_together_or_not_at_all(server, workdir):
    srv = server()
    kept = srv.add_job(HELLO, "kept", ["a"], minute="0")
    db = sqlite3.connect(workdir / "data" / "datastore.db")
    # the audit log cannot be written while its table has another name
    db.execute("ALTER TABLE scheduler_jobauditlog RENAME TO audit_away")
    try:
        added = srv.api("POST", "/api/v1/jobs", json={"job_class_string": HELLO, "name": "lost",
                                                      "pub_args": ["b"], "minute": "0"})
        modified = srv.api("PUT", f"/api/v1/jobs/{kept}", json={"name": "renamed"})
        paused = srv.api("PATCH", f"/api/v1/jobs/{kept}")
        deleted = srv.api("DELETE", f"/api/v1/jobs/{kept}")
    finally:
        db.execute("ALTER TABLE audit_away RENAME TO scheduler_jobauditlog")
        db.close()
    for answer in (added, modified, paused, deleted):
        assert answer.status_code >= 500 and "error" in answer.json()
    jobs = srv.get("/api/v1/jobs").json()["jobs"]
    assert [(j["job_id"], j["name"], j["paused"]) for j in jobs] == [(kept, "kept", False)]
    assert [e["event"] for e in srv.get("/api/v1/logs").json()["logs"]] == ["added"]
    # and once the table is back, both are written
    assert srv.api("DELETE", f"/api/v1/jobs/{kept}").status_code == 200
    assert srv.get("/api/v1/jobs").json()["jobs"] == []
    assert [e["event"] for e in srv.get("/api/v1/logs").json()["logs"]] == ["deleted", "added"]
