"""JobViews: the job list read from APScheduler's table, rebuilding only rows whose stored
state changed — including changes made by another instance sharing the database."""
from __future__ import annotations

import json
import logging

import pytest
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import insert

from bots_scheduler import jsontext
from bots_scheduler.scheduling.jobspec import CRON_FIELDS, build_trigger
from bots_scheduler.scheduling.jobviews import JobViews

TABLE = "scheduler_jobs"
HELLO = "bots_scheduler.jobs.builtin.sample.HelloJob"
FIRE = "bots_scheduler.scheduling.runner:fire"


def trigger(**fields):
    return build_trigger({name: fields.get(name, "0" if name == "second" else "*")
                          for name in CRON_FIELDS}, "UTC")


def instance(engine):
    """One scheduler on the shared table, as each instance of a cluster has."""
    aps = BackgroundScheduler(jobstores={"default": SQLAlchemyJobStore(engine=engine,
                                                                       tablename=TABLE)},
                              timezone="UTC")
    aps.start(paused=True)
    return aps


@pytest.fixture
def aps(engine):
    scheduler = instance(engine)
    yield scheduler
    scheduler.shutdown(wait=False)


def add(aps, job_id, name, **fields):
    aps.add_job(FIRE, trigger=trigger(**fields), id=job_id, name=name, args=[HELLO, job_id, "x"])


def test_jobs_are_listed_soonest_first_and_paused_last(aps, engine):
    add(aps, "late", "late", hour="23", minute="59")
    add(aps, "soon", "soon", second="*")
    add(aps, "held", "held", minute="0")
    aps.pause_job("held")
    views = JobViews(engine, TABLE).all()
    assert [v["job_id"] for v in views] == ["soon", "late", "held"]
    assert views[2]["next_run_time"] == "" and views[2]["paused"] is True
    assert views[0]["name"] == "soon" and views[0]["pub_args"] == ["x"]
    assert views[0]["job_class_string"] == HELLO


def test_changes_of_this_or_another_instance_are_seen_on_the_next_call(aps, engine):
    add(aps, "a", "first name", minute="5")
    add(aps, "b", "other", minute="6")
    views = JobViews(engine, TABLE)
    assert {v["job_id"]: v["name"] for v in views.all()} == {"a": "first name", "b": "other"}
    aps.modify_job("a", name="second name")
    assert {v["job_id"]: v["name"] for v in views.all()}["a"] == "second name"
    other = instance(engine)
    try:
        other.modify_job("a", name="other named")      # as long as before: still seen
        other.reschedule_job("b", trigger=trigger(minute="7"))
    finally:
        other.shutdown(wait=False)
    listed = {v["job_id"]: v for v in views.all()}
    assert listed["a"]["name"] == "other named"
    assert listed["b"]["minute"] == "7"
    aps.remove_job("b")
    assert [v["job_id"] for v in views.all()] == ["a"]


def test_a_view_handed_out_is_read_only_and_a_copy_can_be_changed(aps, engine):
    add(aps, "a", "kept", minute="5")
    views = JobViews(engine, TABLE)
    first = views.all()[0]
    for scribble in (lambda: first.__setitem__("name", "scribbled"),
                     lambda: first.update(name="scribbled"), lambda: first.pop("name"),
                     lambda: first["pub_args"].append("more"),
                     lambda: first["pub_args"].__setitem__(0, "y")):
        with pytest.raises(TypeError, match="read-only"):
            scribble()
    copy = dict(first, pub_args=list(first["pub_args"]))
    copy["name"] = "changed"
    copy["pub_args"].append("more")
    again = views.all()[0]
    assert again is first       # shared with the cache, not copied on every call
    assert (again["name"], again["pub_args"]) == ("kept", ["x"])
    assert json.loads(jsontext.dumps(again))["pub_args"] == ["x"]


def test_a_row_that_cannot_be_restored_is_left_out_and_logged(aps, engine, caplog):
    add(aps, "good", "good", minute="5")
    table = JobViews(engine, TABLE).table
    with engine.begin() as conn:
        conn.execute(insert(table).values(id="broken", next_run_time=1.0,
                                          job_state=b"not a pickle"))
    with caplog.at_level(logging.ERROR, logger="bots_scheduler.scheduling.jobviews"):
        views = JobViews(engine, TABLE).all()
    assert [v["job_id"] for v in views] == ["good"]
    assert "job broken" in caplog.text
