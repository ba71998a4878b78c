"""The execution store's prepared writes (one statement, values as parameters) and the
lifecycle's conditional moves, on every DBMS."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from bots_scheduler import jsontext
from bots_scheduler.cli.definition import build_parser
from bots_scheduler.cluster.tables import make_cluster_tables
from bots_scheduler.datastore.store import Datastore
from bots_scheduler.executions.lifecycle import Lifecycle
from bots_scheduler.executions.states import ExecutionState
from bots_scheduler.executions.store import ExecutionStore
from bots_scheduler.settings import database_settings


@pytest.fixture
def datastore(database):
    options = build_parser().parse_args(["run", *database])
    datastore = Datastore(database_settings(options, Path("data")), pool_size=2)
    datastore.create_tables()
    cluster = make_cluster_tables(datastore.settings.jobs_table)
    cluster.metadata.create_all(datastore.engine)
    yield datastore, cluster
    datastore.dispose()


@pytest.fixture
def store(datastore):
    datastore, cluster = datastore
    return ExecutionStore(datastore.engine, datastore.tables, cluster.firings)


@pytest.fixture
def lifecycle(store):
    return Lifecycle(store, "host", 42)


def test_an_execution_goes_from_scheduled_to_succeeded_and_only_one_claim_wins(store,
                                                                                lifecycle):
    job = {"job_id": "j1", "job_class_string": "a.B", "name": "n", "pub_args": ["é", 2 ** 70]}
    when = datetime(2026, 11, 27, 9, 0, tzinfo=timezone.utc)
    with store.transaction() as conn:
        lifecycle.create(job, description="run now", scheduled_time=when, eid="e1", conn=conn)
        store.add_log("j1", "n", "custom_run", "ana", "execution e1", "a.B", conn=conn)
    lifecycle.create(job, scheduled_time=when, eid="e2")
    assert lifecycle.claim("e1", when + timedelta(seconds=1))
    other = Lifecycle(store, "other", 43)
    assert not other.claim("e1", when + timedelta(seconds=1))       # already running
    assert lifecycle.transition("e1", ExecutionState.SUCCEEDED, result="<p>report</p>",
                                finished_time=when + timedelta(seconds=2))
    one = store.get("e1")
    assert (one["state"], one["hostname"], one["pid"], one["result"]) == (
        "succeeded", "host", 42, "<p>report</p>")
    printed = json.loads(jsontext.dumps(one))      # times as the API prints them
    assert (printed["scheduled_time"], printed["finished_time"]) == (
        "2026-11-27T09:00:00+00:00", "2026-11-27T09:00:02+00:00")
    assert one["job"] == job
    assert store.state_of("e2") == "scheduled"         # the other row is untouched
    listed, total = store.list_executions(when - timedelta(hours=1), when + timedelta(hours=1), 10)
    assert total == 2 and {row["execution_id"] for row in listed} == {"e1", "e2"}
    assert all(row["job"].value() == job for row in listed)   # stored JSON, passed through
    logs, _ = store.list_logs(datetime.now(timezone.utc) - timedelta(minutes=5),
                              datetime.now(timezone.utc), 10)
    assert [(e["event"], e["user"], e["description"]) for e in logs] == [
        ("custom_run", "ana", "execution e1")]


def test_an_unknown_column_is_refused_and_nothing_is_written(store, lifecycle):
    lifecycle.create({"job_id": "j1"}, eid="e1")
    with pytest.raises(TypeError, match="no such execution column: bogus"):
        lifecycle.transition("e1", ExecutionState.FAILED, bogus=1)
    with pytest.raises(TypeError, match="state changes only through"):
        store.set("e1", state="failed")
    assert store.state_of("e1") == "scheduled"


def test_a_final_state_is_final_and_a_move_from_elsewhere_is_refused(store, lifecycle):
    lifecycle.create({"job_id": "j1"}, eid="e1")
    assert lifecycle.end("e1", ExecutionState.FAILED, "Missed", "every thread was busy")
    # the run's own end arrives late: the row is no longer running, so it does not move
    assert not lifecycle.transition("e1", ExecutionState.SUCCEEDED, result="<p>late</p>")
    row = store.get("e1")
    assert (row["state"], row["description"]) == ("failed", "every thread was busy")
    assert "Missed" in row["result"] and row["finished_time"]
    with pytest.raises(ValueError, match="cannot move from succeeded to running"):
        lifecycle.transition("e1", ExecutionState.RUNNING, expect=[ExecutionState.SUCCEEDED])


def test_a_firing_is_recorded_once(store, lifecycle):
    when = datetime(2026, 11, 27, 9, 0, tzinfo=timezone.utc)
    job = {"job_id": "j1", "name": "n"}
    first = lifecycle.record_firing("j1", when, job)
    assert first and lifecycle.record_firing("j1", when, job) is None
    assert store.get(first)["state"] == "scheduled"
    assert lifecycle.record_firing("j1", when + timedelta(minutes=1), job)
    assert store.forget_firings(datetime.now(timezone.utc).replace(tzinfo=None)
                                + timedelta(seconds=1)) == 2


def test_a_stop_request_stops_a_queued_run_and_marks_a_running_one_stopping(store, lifecycle):
    queued = lifecycle.create({"job_id": "j1"})
    running = lifecycle.create({"job_id": "j1"}, ExecutionState.RUNNING)
    assert lifecycle.request_stop(queued) == "scheduled"
    assert lifecycle.request_stop(running) == "running"
    assert store.state_of(queued) == "stopped" and store.state_of(running) == "stopping"
    assert lifecycle.stop_requested(running) and not lifecycle.stop_requested(queued)
    assert lifecycle.request_stop(queued) == "stopped"          # ended: nothing moves
    assert lifecycle.request_stop("no-such-execution") is None


def test_the_reaper_move_applies_only_while_the_row_belongs_to_the_named_process(store,
                                                                                  lifecycle):
    eid = lifecycle.create({"job_id": "j1"}, ExecutionState.RUNNING)
    assert not lifecycle.end(eid, ExecutionState.FAILED, "Interrupted", "gone",
                             expect=[ExecutionState.RUNNING], owner=("host", 7))
    assert lifecycle.end(eid, ExecutionState.FAILED, "Interrupted", "gone",
                         expect=[ExecutionState.RUNNING], owner=("host", 42))
    assert store.state_of(eid) == "failed"
