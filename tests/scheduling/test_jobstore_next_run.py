"""ResilientJobStore remembers the earliest next run time between wake-ups, without ever making
a job late: what is added or updated through it brings the time forward at once, and what
another instance writes to the shared table is seen once the remembered time is FRESH_FOR old."""
from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy
from apscheduler.job import Job
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.date import DateTrigger

from bots_scheduler.scheduling import jobstore
from bots_scheduler.scheduling.jobstore import ResilientJobStore

TABLE = "scheduler_jobs"
FIRE = "bots_scheduler.scheduling.runner:fire"
HELLO = "bots_scheduler.jobs.builtin.sample.HelloJob"


@pytest.fixture
def aps():
    scheduler = BackgroundScheduler(timezone="UTC")
    yield scheduler


def store_of(engine, aps, fresh_for=jobstore.FRESH_FOR):
    store = ResilientJobStore(engine=engine, tablename=TABLE, fresh_for=fresh_for)
    store.start(aps, "default")
    return store


def job(aps, job_id, when):
    return Job(aps, id=job_id, func=FIRE, args=[HELLO, job_id], kwargs={}, name=job_id,
               trigger=DateTrigger(when), executor="default", misfire_grace_time=None,
               coalesce=True, max_instances=1, next_run_time=when)


def count_queries(engine):
    seen = []
    sqlalchemy.event.listen(engine, "before_cursor_execute",
                            lambda *args: seen.append(args[2]))
    return seen


def test_wake_ups_without_changes_do_not_query_the_table(engine, aps):
    store = store_of(engine, aps)
    later = datetime.now(timezone.utc) + timedelta(hours=1)
    store.add_job(job(aps, "a", later))
    assert store.get_next_run_time() == later
    queries = count_queries(engine)
    for _ in range(50):
        assert store.get_due_jobs(datetime.now(timezone.utc)) == []
        assert store.get_next_run_time() == later
    assert queries == []


def test_a_job_added_through_the_store_brings_the_next_run_time_forward(engine, aps):
    store = store_of(engine, aps)
    now = datetime.now(timezone.utc)
    store.add_job(job(aps, "late", now + timedelta(hours=1)))
    store.get_next_run_time()
    store.add_job(job(aps, "soon", now + timedelta(minutes=1)))
    assert store.get_next_run_time() == now + timedelta(minutes=1)
    due = store.get_due_jobs(now + timedelta(minutes=2))
    assert [j.id for j in due] == ["soon"]


def test_a_job_moved_later_costs_a_query_but_is_then_known_exactly(engine, aps):
    store = store_of(engine, aps)
    now = datetime.now(timezone.utc)
    first = job(aps, "a", now + timedelta(minutes=1))
    store.add_job(first)
    store.get_next_run_time()
    first._modify(next_run_time=now + timedelta(hours=2))
    store.update_job(first)
    # still the earlier time: at worst a wake-up that finds nothing due
    assert store.get_next_run_time() == now + timedelta(minutes=1)
    assert store.get_due_jobs(now + timedelta(minutes=5)) == []
    assert store.get_next_run_time() == now + timedelta(hours=2)


def test_a_job_due_now_is_returned_and_the_next_time_read_again(engine, aps):
    store = store_of(engine, aps)
    now = datetime.now(timezone.utc)
    store.add_job(job(aps, "due", now - timedelta(seconds=1)))
    store.add_job(job(aps, "next", now + timedelta(hours=1)))
    store.get_next_run_time()
    assert [j.id for j in store.get_due_jobs(now)] == ["due"]
    store.remove_job("due")
    assert store.get_next_run_time() == now + timedelta(hours=1)


def test_jobs_written_by_another_instance_are_seen_once_the_time_is_stale(engine, aps):
    mine = store_of(engine, aps, fresh_for=0.2)
    theirs = store_of(engine, BackgroundScheduler(timezone="UTC"))
    now = datetime.now(timezone.utc)
    mine.add_job(job(aps, "mine", now + timedelta(hours=1)))
    assert mine.get_next_run_time() == now + timedelta(hours=1)
    theirs.add_job(job(aps, "theirs", now - timedelta(seconds=1)))
    assert mine.get_due_jobs(now) == []      # not yet: the remembered time is fresh
    time.sleep(0.25)
    assert [j.id for j in mine.get_due_jobs(now)] == ["theirs"]


def test_the_prepared_writes_behave_as_apschedulers_own(engine, aps):
    from apscheduler.jobstores.base import ConflictingIdError, JobLookupError
    from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore

    store = store_of(engine, aps)
    plain = SQLAlchemyJobStore(engine=engine, tablename=TABLE)   # reads what ours wrote
    plain.start(aps, "plain")
    soon = datetime.now(timezone.utc) + timedelta(minutes=5)
    store.add_job(job(aps, "a", soon))
    with pytest.raises(ConflictingIdError):
        store.add_job(job(aps, "a", soon))
    assert plain.lookup_job("a").next_run_time == soon
    moved = job(aps, "a", soon + timedelta(hours=1))
    moved.name = "renamed"
    store.update_job(moved)
    found = store.lookup_job("a")
    assert (found.name, found.next_run_time) == ("renamed", soon + timedelta(hours=1))
    assert plain.get_next_run_time() == soon + timedelta(hours=1)
    assert store.lookup_job("missing") is None
    with pytest.raises(JobLookupError):
        store.update_job(job(aps, "missing", soon))
    store.remove_job("a")
    with pytest.raises(JobLookupError):
        store.remove_job("a")
    assert plain.get_all_jobs() == []
