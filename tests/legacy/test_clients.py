"""What the web UIs of ndscheduler 0.3.0 and of the original Bots Scheduler need of the API
(CONTRACT §9): the audit entry of a run-now is the bare execution id, and ShellCommand takes
its tokens as one list argument."""
from __future__ import annotations

SHELL = "bots_scheduler.jobs.builtin.shell.ShellCommand"


def test_a_run_now_entry_describes_the_run_by_its_bare_execution_id(server):
    srv = server()
    job_id = srv.add_job(SHELL, "echo", ["echo", "hi"], minute="0")
    eid = srv.post(f"/api/v1/executions/{job_id}").json()["execution_id"]
    srv.wait_execution(eid)
    [entry] = [log for log in srv.get("/api/v1/logs").json()["logs"]
               if log["event"] == "custom_run"]
    assert entry["description"] == eid
    # ndscheduler's Logs tab links to /api/v1/executions/<description>
    linked = srv.get(f"/api/v1/executions/{entry['description']}")
    assert linked.status_code == 200 and linked.json()["state"] == "succeeded"


def test_shell_command_declares_its_tokens_as_the_original_did(server):
    srv = server()
    classes = {c["job_class_string"]: c
               for c in srv.get("/api/v1/jobclasses").json()["job_classes"]}
    assert [arg["type"] for arg in classes[SHELL]["info"]["arguments"]] == ["list"]
    # the original's dialog sends its list argument as the whole pub_args
    job_id = srv.add_job(SHELL, "tokens", ["echo", "two words", "three"], minute="0")
    eid = srv.post(f"/api/v1/executions/{job_id}").json()["execution_id"]
    execution = srv.wait_execution(eid)
    assert execution["state"] == "succeeded" and "two words three" in execution["result"]
