"""Retention: old executions and audit entries are pruned in small batches in the background,
the last runs of each job are kept, and the API keeps answering meanwhile."""
from __future__ import annotations

import json
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import func, insert, select

from bots_scheduler.cli.definition import build_parser
from bots_scheduler.datastore.store import Datastore
from bots_scheduler.executions.store import ExecutionStore
from bots_scheduler.retention import Retention
from bots_scheduler.settings import database_settings

OLD = datetime.now(timezone.utc).replace(tzinfo=None) - timedelta(days=100)
RECENT = datetime.now(timezone.utc).replace(tzinfo=None) - timedelta(days=1)


def open_datastore(args) -> Datastore:
    options = build_parser().parse_args(["run", *args])
    store = Datastore(database_settings(options, Path("data")), pool_size=2)
    store.create_tables()
    return store


def execution_rows(job_id: str, count: int, start: datetime, state: str = "succeeded"):
    return [{"eid": f"{job_id}-{start:%j}-{n:06d}", "job_id": job_id, "job_class_string": "x.Y",
             "job": json.dumps({"job_id": job_id, "name": job_id}), "state": state,
             "scheduled_time": start + timedelta(minutes=n), "updated_time": start,
             "result": "<p>report</p>"} for n in range(count)]


def log_rows(count: int, created: datetime):
    return [{"job_id": "a", "job_name": "a", "event": "modified", "user": "u",
             "created_time": created + timedelta(seconds=n)} for n in range(count)]


def insert_rows(store, executions=(), logs=(), chunk=10000):
    with store.engine.begin() as conn:
        for rows, table in ((list(executions), store.tables.executions),
                            (list(logs), store.tables.logs)):
            for index in range(0, len(rows), chunk):
                conn.execute(insert(table), rows[index:index + chunk])


def count(store, table, **where):
    query = select(func.count()).select_from(table)
    for column, value in where.items():
        query = query.where(table.c[column] == value)
    with store.engine.connect() as conn:
        return conn.execute(query).scalar()


def test_pruning_keeps_recent_rows_active_runs_and_the_last_runs_of_each_job(database):
    store = open_datastore(database)
    try:
        insert_rows(store, [*execution_rows("a", 30, OLD), *execution_rows("a", 2, RECENT),
                            *execution_rows("b", 3, OLD),
                            *execution_rows("c", 1, OLD - timedelta(days=1), "running")],
                    [*log_rows(20, OLD), *log_rows(2, RECENT)])
        retention = Retention(ExecutionStore(store.engine, store.tables), days=90, keep_runs=5,
                              batch=7, pause=0)
        assert retention.prune() == (27, 20)
        executions = store.tables.executions
        assert count(store, executions, job_id="a") == 5      # 2 recent + the 3 newest old
        assert count(store, executions, job_id="b") == 3      # fewer than 5 runs: all kept
        assert count(store, executions, job_id="c") == 1      # still active
        assert count(store, store.tables.logs) == 2
        with store.engine.connect() as conn:
            oldest_kept = conn.execute(select(func.min(executions.c.scheduled_time))
                                       .where(executions.c.job_id == "a")).scalar()
        assert oldest_kept == OLD + timedelta(minutes=27)
        assert retention.prune() == (0, 0)
        assert retention.pruned == {"executions": 27, "logs": 20}
    finally:
        store.dispose()


def test_retention_days_zero_keeps_everything(server, workdir):
    srv = server("--retention-days", "0")
    assert "retention: disabled" in srv.stderr()


@pytest.mark.integration      # a bots-scheduler process
@pytest.mark.parametrize("option,value", [("--retention-days", "-1"), ("--keep-runs", "x")])
def test_bad_retention_options_end_run_with_one_line(workdir, option, value):
    from tests.production.conftest import cli
    result = cli(workdir, "run", "--local", option, value, timeout=30)
    assert result.returncode == 2 and option in result.stderr
    assert result.stderr.count("\n") == 1


def test_100000_old_executions_are_pruned_while_the_api_keeps_answering(server, workdir):
    store = open_datastore(["--dbms", "sqlite"])
    try:
        jobs = [f"job{n:02d}" for n in range(50)]
        insert_rows(store, [row for job in jobs for row in execution_rows(job, 2000, OLD)],
                    log_rows(5000, OLD))
        insert_rows(store, execution_rows("fresh", 10, RECENT))
        assert count(store, store.tables.executions) == 100010
    finally:
        store.dispose()
    srv = server("--retention-days", "30", "--keep-runs", "3")
    answers, slowest, began = [], 0.0, time.monotonic()
    store = open_datastore(["--dbms", "sqlite"])
    try:
        while count(store, store.tables.executions) > 50 * 3 + 10:
            assert time.monotonic() - began < 240, "pruning did not finish in 4 minutes"
            for path in ("/api/v1/executions?limit=20", "/healthz", "/api/v1/jobs"):
                started = time.monotonic()
                answers.append(srv.get(path, timeout=30).status_code)
                slowest = max(slowest, time.monotonic() - started)
            time.sleep(0.2)
        srv.wait_for(lambda: count(store, store.tables.logs) == 0, what="old logs pruned")
        assert count(store, store.tables.executions, job_id="fresh") == 10
        assert all(count(store, store.tables.executions, job_id=job) == 3 for job in jobs[:5])
    finally:
        store.dispose()
    assert answers and set(answers) == {200}
    print(f"\npruned 100,000 executions in {time.monotonic() - began:.1f} s; "
          f"{len(answers)} API answers meanwhile, slowest {slowest * 1000:.0f} ms")


def test_pruning_forgets_the_findings_of_pruned_runs_and_old_gone_findings_not_open_ones(
        database):
    from bots_scheduler.findings import Finding
    from bots_scheduler.findings.store import FindingStore
    store = open_datastore(database)
    findings = FindingStore(store.engine)
    findings.create_tables()
    try:
        old_runs = execution_rows("a", 3, OLD)
        insert_rows(store, old_runs + execution_rows("a", 1, RECENT))
        first, second, third = (row["eid"] for row in old_runs)
        findings.record("a", "x.Y", first, [Finding("k", "open"), Finding("k", "old")], OLD)
        findings.record("a", "x.Y", second, [Finding("k", "open")], OLD)
        findings.record("a", "x.Y", third, [Finding("k", "open")], OLD)
        retention = Retention(ExecutionStore(store.engine, store.tables), days=90, keep_runs=1,
                              batch=2, pause=0, findings=findings)
        assert retention.prune() == (3, 0)
        assert findings.run_counts([first, second, third]) == {}
        assert [(f["key"], f["state"]) for f in findings.list_findings(10)[0]] == [
            ("open", "open")]
        assert retention.pruned["findings"] == 1
    finally:
        store.dispose()
