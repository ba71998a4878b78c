"""Findings end to end on SQLite, PostgreSQL and MariaDB: the real server, a job whose findings
the test controls, and the REST API (GET /api/v1/findings, executions' counts and findings)."""
from __future__ import annotations

import pytest

from tests.findings.controlled import add_job, port, run_with, write_job

A, B, C = "192.0.2.1:22/tcp", "192.0.2.1:80/tcp", "192.0.2.1:443/tcp"


@pytest.fixture
def srv(server, database, workdir):
    write_job(workdir)
    return server(*database)


def findings(srv, **query) -> dict:
    response = srv.get("/api/v1/findings", params=query)
    assert response.status_code == 200, response.text
    return response.json()


def by_key(answer) -> dict:
    return {f["key"]: f for f in answer["findings"]}


def changes(srv, eid) -> dict:
    response = srv.get(f"/api/v1/executions/{eid}/findings")
    assert response.status_code == 200, response.text
    return {f["key"]: f["change"] for f in response.json()["findings"]}


def test_runs_record_new_changed_unchanged_gone_and_gone_then_new(srv, workdir):
    job = add_job(srv)
    first = run_with(srv, workdir, job, [port(A), port(B, "HTTP")])
    assert first["state"] == "succeeded"
    assert first["findings"] == {"new": 2, "changed": 0, "unchanged": 0, "gone": 0}
    assert "192.0.2.1:22/tcp" in first["result"]           # rendered in the report

    second = run_with(srv, workdir, job, [port(A, severity="high"), port(C, "HTTPS")])
    assert second["findings"] == {"new": 1, "changed": 1, "unchanged": 0, "gone": 1}
    assert changes(srv, second["execution_id"]) == {A: "changed", C: "new", B: "gone"}

    third = run_with(srv, workdir, job, [port(A, severity="high"), port(B, "HTTP"),
                                         port(C, "HTTPS")])
    assert third["findings"] == {"new": 1, "changed": 0, "unchanged": 2, "gone": 0}
    assert changes(srv, third["execution_id"])[B] == "new"          # gone, then new again

    answer = findings(srv, job_id=job)
    assert answer["total"] == 3
    a = by_key(answer)[A]
    assert (a["state"], a["severity"], a["first_execution_id"], a["last_execution_id"]) == (
        "open", "high", first["execution_id"], third["execution_id"])
    assert set(a) >= {"job_id", "kind", "key", "title", "severity", "details", "state",
                      "first_seen", "last_seen", "first_execution_id", "last_execution_id"}
    assert a["first_seen"].endswith("+00:00")
    history = srv.get(f"/api/v1/findings/{by_key(answer)[B]['id']}").json()["history"]
    assert [e["change"] for e in history] == ["new", "gone", "new"]


def test_a_failed_run_changes_nothing(srv, workdir):
    job = add_job(srv)
    run_with(srv, workdir, job, [port(A), port(B)])
    before = findings(srv)
    failed = run_with(srv, workdir, job, [port(C)], fail="the service went away")
    assert failed["state"] == "failed"
    assert failed["findings"] == {"new": 0, "changed": 0, "unchanged": 0, "gone": 0}
    assert findings(srv) == before
    assert srv.get(f"/api/v1/executions/{failed['execution_id']}/findings").json()[
        "findings"] == []


@pytest.mark.parametrize("bad, says", [
    ({"kind": "", "key": "k"}, "kind must be a non-empty string"),
    ({"kind": "k", "key": "x" * 513}, "key must be at most 512 characters"),
    ({"kind": "k", "key": "x", "severity": "urgent"}, "severity must be one of"),
])
def test_a_bad_finding_fails_the_run_with_a_clear_report_and_records_nothing(
        server, workdir, bad, says):
    write_job(workdir)
    srv = server()
    job = add_job(srv)
    run_with(srv, workdir, job, [port(A)])
    execution = run_with(srv, workdir, job, bad=bad)
    assert execution["state"] == "failed"
    assert says in execution["result"] and says in execution["description"]
    assert [f["state"] for f in findings(srv)["findings"]] == ["open"]   # A is not gone


def test_filters_paging_and_bad_values(server, workdir):
    write_job(workdir)
    srv = server()
    job = add_job(srv)
    run_with(srv, workdir, job, [port(f"192.0.2.{n}:22/tcp", severity="high" if n < 3 else "low")
                                 for n in range(7)] + [{"kind": "hostname", "key": "a.example"}])
    assert findings(srv)["total"] == 8
    assert findings(srv, severity="high")["total"] == 3
    assert findings(srv, kind="hostname")["total"] == 1
    assert findings(srv, state="gone")["total"] == 0
    assert findings(srv, since="2000-01-01T00:00:00Z")["total"] == 8
    assert findings(srv, since="2999-01-01T00:00:00+01:00")["total"] == 0
    page = findings(srv, limit=3, offset=6)
    assert (len(page["findings"]), page["total"], page["next_offset"]) == (2, 8, None)
    assert findings(srv, limit=3)["next_offset"] == 3
    for query in ({"state": "closed"}, {"severity": "urgent"}, {"since": "yesterday"},
                  {"limit": "0"}, {"limit": "x"}, {"offset": "-1"}, {"kind": "k" * 600}):
        response = srv.get("/api/v1/findings", params=query)
        assert response.status_code == 400, (query, response.text)
        assert "error" in response.json()
    assert srv.get("/api/v1/findings/" + "0" * 64).status_code == 404
    assert srv.get("/api/v1/executions/nope/findings").status_code == 404
    listed = srv.get("/api/v1/executions", params={"result": "false"}).json()["executions"]
    assert listed[0]["findings"]["new"] == 8


def test_clean_drops_the_findings_tables(srv, workdir, database):
    import subprocess
    import sys
    from pathlib import Path

    import sqlalchemy

    from bots_scheduler.cli.definition import build_parser
    from bots_scheduler.settings import database_settings
    job = add_job(srv)
    run_with(srv, workdir, job, [port(A)])
    srv.stop()
    settings = database_settings(build_parser().parse_args(["run", *database]), Path("data"))
    done = subprocess.run([sys.executable, "-m", "bots_scheduler", "clean", "-y", *database],
                          cwd=workdir, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    if settings.dbms == "sqlite":
        assert not settings.sqlite_path.exists()
        return
    engine = sqlalchemy.create_engine(settings.url)
    try:
        left = [name for name in sqlalchemy.inspect(engine).get_table_names()
                if name.startswith("scheduler_findings")]
    finally:
        engine.dispose()
    assert left == []
