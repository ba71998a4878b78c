"""One wake-up of the scheduler's thread writes its firings and the jobs' next run times in one
transaction, then dispatches (scheduling/wakeup.py); a real SQLite datastore, no server."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy
from sqlalchemy import Column, Integer, MetaData, String, Table, event, insert, select, update

from bots_scheduler.cluster.tables import make_cluster_tables
from bots_scheduler.datastore.store import Datastore
from bots_scheduler.executions.lifecycle import Lifecycle
from bots_scheduler.executions.store import ExecutionStore
from bots_scheduler.scheduling.wakeup import Wakeup
from bots_scheduler.settings import DatabaseSettings

DUE = datetime(2026, 12, 3, 10, 0, 5, tzinfo=timezone.utc)


class Parts:
    def __init__(self, tmp_path, may_fire=lambda: True):
        url = sqlalchemy.URL.create("sqlite", database=str(tmp_path / "datastore.db"))
        self.datastore = Datastore(DatabaseSettings("sqlite", "sqlite", url), pool_size=4)
        self.datastore.create_tables()
        cluster = make_cluster_tables("scheduler_jobs")
        cluster.metadata.create_all(self.datastore.engine)
        self.store = ExecutionStore(self.datastore.engine, self.datastore.tables,
                                    cluster.firings)
        self.lifecycle = Lifecycle(self.store, "testhost", 4242)
        self.wakeup = Wakeup(self.store, self.lifecycle, may_fire)
        # a stand-in for the jobs table: the next run time of each job
        self.jobs = Table("next_runs", MetaData(), Column("job_id", String(32), primary_key=True),
                          Column("next_run", Integer))
        self.jobs.metadata.create_all(self.datastore.engine)
        with self.datastore.engine.begin() as conn:
            conn.execute(insert(self.jobs), [{"job_id": f"job-{n}", "next_run": 5}
                                             for n in range(3)])
        self.commits = 0
        event.listen(self.datastore.engine, "commit", self._count)
        self.dispatched: dict[str, list] = {}
        self.moved: list[str] = []

    def _count(self, _conn):
        self.commits += 1

    def fire(self, number: int, *run_times: datetime) -> None:
        job_id = f"job-{number}"
        self.wakeup.fire(job_id, f"job {number}", list(run_times or [DUE]),
                         {"job_id": job_id, "name": f"job {number}",
                          "job_class_string": "m.C"},
                         lambda pending: self.dispatched.__setitem__(job_id, pending))

    def move_on(self, number: int) -> None:
        job_id = f"job-{number}"
        self.wakeup.defer(
            lambda conn: conn.execute(update(self.jobs).where(self.jobs.c.job_id == job_id)
                                      .values(next_run=65)),
            lambda: self.moved.append(job_id))

    def next_runs(self) -> dict[str, int]:
        with self.datastore.engine.connect() as conn:
            return dict(conn.execute(select(self.jobs.c.job_id, self.jobs.c.next_run)).all())

    def executions(self) -> list[dict]:
        rows, _total = self.store.list_executions(DUE - timedelta(hours=1),
                                                  DUE + timedelta(hours=1), 100)
        return rows


@pytest.fixture
def parts(tmp_path):
    made = Parts(tmp_path)
    yield made
    made.datastore.dispose()


def test_the_firings_and_next_run_times_of_a_wakeup_are_one_transaction_then_dispatched(parts):
    parts.wakeup.begin()
    assert parts.wakeup.in_progress()
    for number in range(3):
        parts.fire(number)
        parts.move_on(number)
    assert parts.dispatched == {} and parts.executions() == []     # nothing before the end
    parts.wakeup.end()
    assert not parts.wakeup.in_progress()
    assert parts.commits == 1
    rows = parts.executions()
    assert sorted(r["job_id"] for r in rows) == ["job-0", "job-1", "job-2"]
    assert {r["state"] for r in rows} == {"scheduled"}
    assert {r["hostname"] for r in rows} == {"testhost"}
    assert all(parts.store.get(r["execution_id"])["job"]["job_class_string"] == "m.C"
               for r in rows)
    by_job = {r["job_id"]: r["execution_id"] for r in rows}
    assert parts.dispatched == {job: [(eid, DUE)] for job, eid in by_job.items()}
    assert parts.next_runs() == {"job-0": 65, "job-1": 65, "job-2": 65}
    assert parts.moved == ["job-0", "job-1", "job-2"]


def test_a_firing_already_recorded_is_not_fired_again(parts):
    earlier = parts.lifecycle.record_firing("job-1", DUE, {"job_id": "job-1"})
    parts.wakeup.begin()
    parts.fire(0)
    parts.fire(1)                                   # recorded before a restart
    parts.fire(2, DUE - timedelta(minutes=1), DUE)  # two run times (no coalescing)
    parts.wakeup.end()
    assert parts.dispatched["job-1"] == []
    assert [due for _eid, due in parts.dispatched["job-2"]] == [DUE - timedelta(minutes=1),
                                                                DUE]
    assert len(parts.executions()) == 1 + 1 + 2
    assert earlier in {r["execution_id"] for r in parts.executions()}


def test_a_failed_transaction_records_nothing_and_moves_no_job_on(parts, caplog):
    parts.wakeup.begin()
    parts.fire(0)
    parts.move_on(0)
    parts.wakeup.defer(lambda conn: conn.execute(sqlalchemy.text("UPDATE no_such_table SET x=1")))
    parts.wakeup.end()
    assert parts.executions() == []
    assert parts.next_runs()["job-0"] == 5          # due again at the next wake-up
    assert parts.dispatched == {"job-0": []} and parts.moved == []
    assert "to be fired again at the next wake-up" in caplog.text


def test_a_conflict_falls_back_to_one_firing_at_a_time_and_dispatches_what_it_recorded(
        parts, caplog):
    parts.wakeup.begin()
    parts.fire(0)
    parts.fire(1)
    # a write of the wake-up that conflicts (as a firing recorded meanwhile by another
    # scheduler would): the firings are then recorded one by one
    parts.wakeup.defer(lambda conn: conn.execute(insert(parts.jobs).values(job_id="job-0")))
    parts.wakeup.end()
    assert sorted(parts.dispatched) == ["job-0", "job-1"]
    assert all(len(pending) == 1 for pending in parts.dispatched.values())
    assert len(parts.executions()) == 2
    assert "next run times of 1 job(s) not written" in caplog.text


def test_a_scheduler_no_longer_leading_fires_nothing_but_moves_its_jobs_on(tmp_path, caplog):
    parts = Parts(tmp_path, may_fire=lambda: False)
    try:
        parts.wakeup.begin()
        parts.fire(0)
        parts.move_on(0)
        parts.wakeup.end()
        assert parts.executions() == []
        assert parts.dispatched == {"job-0": []}
        assert parts.next_runs()["job-0"] == 65
        assert "no longer the leader" in caplog.text
    finally:
        parts.datastore.dispose()


def test_a_wakeup_left_open_by_an_error_is_written_when_the_next_begins(parts):
    parts.wakeup.begin()
    parts.fire(0)
    parts.wakeup.begin()            # APScheduler's loop raised before asking for the next time
    assert [r["job_id"] for r in parts.executions()] == ["job-0"]
    parts.fire(1)
    parts.wakeup.end()
    assert sorted(parts.dispatched) == ["job-0", "job-1"]


def test_a_dispatch_that_raises_is_logged_and_the_other_runs_still_go(parts, caplog):
    parts.wakeup.begin()
    parts.wakeup.fire("job-0", "job 0", [DUE], {"job_id": "job-0"},
                      lambda pending: 1 / 0)
    parts.fire(1)
    parts.wakeup.end()                   # does not raise: APScheduler's thread goes on
    assert "could not be dispatched" in caplog.text
    assert len(parts.dispatched["job-1"]) == 1
