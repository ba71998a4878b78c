"""The datastore's prepared writes (one statement, values as parameters) on every DBMS."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from bots_scheduler import jsontext
from bots_scheduler.cli.definition import build_parser
from bots_scheduler.datastore.store import Datastore
from bots_scheduler.settings import database_settings


@pytest.fixture
def store(database):
    options = build_parser().parse_args(["run", *database])
    store = Datastore(database_settings(options, Path("data")), pool_size=2)
    store.create_tables()
    yield store
    store.dispose()


def test_an_execution_goes_from_scheduled_to_succeeded_and_only_one_claim_wins(store):
    job = {"job_id": "j1", "job_class_string": "a.B", "name": "n", "pub_args": ["é", 2 ** 70]}
    when = datetime(2026, 11, 27, 9, 0, tzinfo=timezone.utc)
    with store.engine.begin() as conn:
        store.add_execution("e1", job, "scheduled", when, description="run now", conn=conn)
        store.add_log("j1", "n", "custom_run", "ana", "execution e1", "a.B", conn=conn)
    store.add_execution("e2", job, "scheduled", when)
    assert store.claim_execution("e1", "host", 42, when + timedelta(seconds=1))
    assert not store.claim_execution("e1", "other", 43)       # already running
    store.update_execution("e1", state="succeeded", result="<p>report</p>",
                           finished_time=when + timedelta(seconds=2))
    one = store.get_execution("e1")
    assert (one["state"], one["hostname"], one["pid"], one["result"]) == (
        "succeeded", "host", 42, "<p>report</p>")
    printed = json.loads(jsontext.dumps(one))      # times as the API prints them
    assert (printed["scheduled_time"], printed["finished_time"]) == (
        "2026-11-27T09:00:00+00:00", "2026-11-27T09:00:02+00:00")
    assert one["job"] == job
    assert store.execution_state("e2") == "scheduled"         # the other row is untouched
    listed, total = store.list_executions(when - timedelta(hours=1), when + timedelta(hours=1), 10)
    assert total == 2 and {row["execution_id"] for row in listed} == {"e1", "e2"}
    assert all(row["job"].value() == job for row in listed)   # stored JSON, passed through
    logs, _ = store.list_logs(datetime.now(timezone.utc) - timedelta(minutes=5),
                              datetime.now(timezone.utc), 10)
    assert [(e["event"], e["user"], e["description"]) for e in logs] == [
        ("custom_run", "ana", "execution e1")]


def test_an_unknown_column_is_refused_and_nothing_is_written(store):
    store.add_execution("e1", {"job_id": "j1"}, "scheduled", datetime.now(timezone.utc))
    with pytest.raises(TypeError, match="no such execution column: bogus"):
        store.update_execution("e1", state="failed", bogus=1)
    assert store.execution_state("e1") == "scheduled"
