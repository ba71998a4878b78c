"""Jobs tables written by earlier versions keep loading.

APScheduler pickles each job with a textual reference to a callable
(``bots_scheduler.scheduling.runner:fire``) and resolves it when the job is read back; a name that
no longer imports makes the job unreadable.  ``fixtures/jobs-table-main-289cd4c.sqlite`` was
written by main at 289cd4c (before the runtime moved to ``bots_scheduler.executions``) with
three jobs: a plain one, a paused one, and one with every run option.
"""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import sqlalchemy

from bots_scheduler.app import Application
from bots_scheduler.settings import DatabaseSettings, Settings

FIXTURE = Path(__file__).parent / "fixtures" / "jobs-table-main-289cd4c.sqlite"


@pytest.fixture
def app(tmp_path):
    database = tmp_path / "datastore.db"
    shutil.copyfile(FIXTURE, database)
    url = sqlalchemy.URL.create("sqlite", database=str(database))
    settings = Settings(database=DatabaseSettings("sqlite", "sqlite", url),
                        data_dir=tmp_path / "data", jobs_dirs=(tmp_path / "jobs",),
                        smtp_config=tmp_path / "none.ini")
    app = Application(settings)
    app.prepare()
    app.scheduler.start(paused=True)      # APScheduler reads its stores only once started
    yield app
    app.scheduler.shutdown()
    app.datastore.dispose()


def test_every_job_of_a_table_written_by_main_loads_with_its_schedule_and_options(app):
    jobs = {job["job_id"]: job for job in app.scheduler.list_jobs()}
    assert set(jobs) == {"hello-hourly", "shell-paused", "hello-options"}
    hourly = app.scheduler.get_job("hello-hourly")
    assert (hourly["name"], hourly["pub_args"], hourly["minute"], hourly["paused"]) == \
        ("hourly hello", ["world"], "5", False)
    assert hourly["next_run_time"]
    paused = app.scheduler.get_job("shell-paused")
    assert (paused["pub_args"], paused["hour"], paused["day_of_week"], paused["paused"],
            paused["next_run_time"]) == (["echo", "hi"], "3", "mon-fri", True, "")
    options = app.scheduler.get_job("hello-options")
    assert (options["timeout"], options["retries"], options["retry_delay"],
            options["notify_changes"], options["timezone"]) == \
        (30, 2, 5, True, "Europe/Brussels")


def test_a_stored_job_read_back_by_apscheduler_resolves_its_callable(app):
    job = app.scheduler.aps.get_job("hello-hourly", jobstore="default")
    assert job.func_ref == "bots_scheduler.scheduling.runner:fire"
    assert callable(job.func)
    assert job.args[:2] == ("bots_scheduler.jobs.builtin.sample.HelloJob", "hello-hourly")


def test_a_stored_job_can_be_changed_and_run_now(app):
    app.scheduler.modify_job("hello-hourly", {"name": "renamed"}, "tester")
    assert app.scheduler.get_job("hello-hourly")["name"] == "renamed"
    app.scheduler.resume_job("shell-paused", "tester")
    assert app.scheduler.get_job("shell-paused")["next_run_time"]
    eid = app.scheduler.run_now("hello-options", "tester")
    assert app.executions.get(eid)["job"]["timeout"] == 30
