"""The Runner and the lifecycle, directly: no server process, a SQLite datastore in a temporary
folder, job classes defined here.  Each test is one way a run can end."""
from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

import pytest
import sqlalchemy

from bots_scheduler import Data, JobBase, JobFailed, Section, Text, report
from bots_scheduler.cluster.tables import make_cluster_tables
from bots_scheduler.datastore.store import Datastore
from bots_scheduler.executions.lifecycle import Lifecycle
from bots_scheduler.executions.outcome import FinishedRun
from bots_scheduler.executions.retries import Retries
from bots_scheduler.executions.runner import Runner
from bots_scheduler.executions.states import ExecutionState
from bots_scheduler.executions.steps import RECORD, ArgumentError, PostRunSteps, SecretArguments
from bots_scheduler.executions.store import ExecutionStore
from bots_scheduler.jobs.loader import JobRegistry
from bots_scheduler.jobs.report import Report
from bots_scheduler.secrets.keys import KeySource
from bots_scheduler.secrets.store import SecretStore
from bots_scheduler.settings import DatabaseSettings

S = ExecutionState


class Finder(JobBase):
    info = {"report_title": "Found", "arguments": [{"type": "string"}]}

    @report
    def run(self, what, *args, **kwargs):
        self.data = {"found": [what]}
        return Section("Hosts", Text(what)), Data(self.data)


class OldStyle(JobBase):
    """The plugin API before ``data``/``notify``: the underscore attributes."""

    @report
    def run(self, *args, **kwargs):
        self._data = ["x"]
        self._notify = False
        return Text("old style")


class Refuses(JobBase):
    @report
    def run(self, *args, **kwargs):
        raise JobFailed("the service said no", Report("Refused", [Section("Why", Text("403"))]))


class Crashes(JobBase):
    @report
    def run(self, *args, **kwargs):
        self.data = {"partial": True}
        raise RuntimeError("boom")


class ReadsFile(JobBase):
    info = {"arguments": [{"type": "file"}]}

    @report
    def run(self, path, *args, **kwargs):
        with open(path) as handle:
            return Text(handle.read())


class Waits(JobBase):
    """Runs until asked to stop (or ``seconds`` pass); ``ignore`` ignores the request."""

    started = threading.Event()

    @report
    def run(self, seconds=30, ignore=False, *args, **kwargs):
        Waits.started.set()
        deadline = time.monotonic() + float(seconds)
        while time.monotonic() < deadline:
            if self.should_stop() and not ignore:
                break
            time.sleep(0.02)
        return Text("waited")


class Disabled(JobBase):
    info = {"enabled": False}

    def run(self, *args, **kwargs):
        raise AssertionError("a disabled job never runs")


CLASSES = {f"t.{klass.__name__}": klass
           for klass in (Finder, OldStyle, Refuses, Crashes, ReadsFile, Waits, Disabled)}


@pytest.fixture
def parts(tmp_path):
    url = sqlalchemy.URL.create("sqlite", database=str(tmp_path / "datastore.db"))
    datastore = Datastore(DatabaseSettings("sqlite", "sqlite", url), pool_size=4)
    datastore.create_tables()
    cluster = make_cluster_tables("scheduler_jobs")
    cluster.metadata.create_all(datastore.engine)
    store = ExecutionStore(datastore.engine, datastore.tables, cluster.firings)
    lifecycle = Lifecycle(store, "testhost", 4242)
    steps = PostRunSteps([(RECORD, lifecycle.record)])
    (tmp_path / "data").mkdir()
    runner = Runner(lifecycle, JobRegistry(dict(CLASSES)), data_dir=tmp_path / "data",
                    job_timeout=None, job_lookup=lambda job_id: None, steps=steps)
    yield SimpleNamespace(store=store, lifecycle=lifecycle, steps=steps, runner=runner,
                          data_dir=tmp_path / "data")
    datastore.dispose()


def run(parts, name, *args, execution_id=None, **options) -> FinishedRun | None:
    return parts.runner.run(f"t.{name}", "job-1", list(args), {"name": "a job", **options},
                            execution_id)


def row(parts, finished_or_eid):
    eid = getattr(finished_or_eid, "execution_id", finished_or_eid)
    return parts.store.get(eid)


# -- states and transitions ----------------------------------------------------------------------

def test_the_states_are_the_contract_names_and_only_active_states_move_on():
    assert [state.value for state in S] == ["scheduled", "running", "stopping", "succeeded",
                                            "failed", "timeout", "stopped", "scheduled error"]
    assert {state for state in S if state.active} == {S.SCHEDULED, S.RUNNING, S.STOPPING}
    for state in S:
        assert state.final != state.active
        if state.final:
            assert not any(state.may_become(other) for other in S)
    assert S.SCHEDULED.may_become(S.RUNNING) and not S.RUNNING.may_become(S.SCHEDULED)
    assert S.STOPPING.may_become(S.SUCCEEDED) and not S.SCHEDULED.may_become(S.SUCCEEDED)


def test_an_execution_cannot_be_created_in_a_final_state(parts):
    with pytest.raises(ValueError, match="cannot start as 'succeeded'"):
        parts.lifecycle.create({"job_id": "j"}, S.SUCCEEDED)


# -- how a run ends ------------------------------------------------------------------------------

def test_a_run_that_returns_items_succeeds_with_its_report_and_data(parts):
    finished = run(parts, "Finder", "<b>10.0.0.1</b>")
    stored = row(parts, finished)
    assert finished.state is S.SUCCEEDED and stored["state"] == "succeeded"
    assert stored["hostname"] == "testhost" and stored["pid"] == 4242
    assert finished.data == {"found": ["<b>10.0.0.1</b>"]}
    assert finished.html == stored["result"]
    assert stored["result"].startswith('<div class="bots-report"><h1 class="report-title">Found')
    assert "&lt;b&gt;10.0.0.1&lt;/b&gt;" in stored["result"] and "<b>" not in stored["result"]
    assert stored["started_time"] and stored["finished_time"]


def test_the_underscore_attributes_are_aliases_of_data_and_notify(parts):
    finished = run(parts, "OldStyle")
    assert (finished.data, finished.notify) == (["x"], False)
    job = OldStyle("j", "e")
    job.data, job.notify = {"a": 1}, True
    assert (job._data, job._notify) == ({"a": 1}, True)


def test_job_failed_keeps_the_jobs_own_report_and_reason(parts):
    finished = run(parts, "Refuses")
    stored = row(parts, finished)
    assert (stored["state"], stored["description"]) == ("failed", "the service said no")
    assert "Refused" in stored["result"] and "403" in stored["result"]


def test_an_exception_fails_the_run_with_the_traceback_and_keeps_the_data(parts):
    finished = run(parts, "Crashes")
    stored = row(parts, finished)
    assert (stored["state"], stored["description"]) == ("failed", "RuntimeError: boom")
    assert "Unexpected Error" in stored["result"] and "Traceback" in stored["result"]
    assert finished.data == {"partial": True}


def test_a_file_argument_outside_the_data_folder_fails_before_the_job_runs(parts):
    finished = run(parts, "ReadsFile", "../../etc/passwd")
    stored = row(parts, finished)
    assert stored["state"] == "failed" and "leaves the data folder" in stored["description"]
    assert "Bad argument" in stored["result"]
    (parts.data_dir / "hosts.txt").write_text("inside")
    assert row(parts, run(parts, "ReadsFile", "hosts.txt"))["state"] == "succeeded"


def test_a_run_past_its_timeout_ends_timeout_with_a_notice_first_in_its_report(parts):
    finished = run(parts, "Waits", 30, timeout=0.3)
    stored = row(parts, finished)
    assert stored["state"] == "timeout"
    assert stored["description"].startswith("timed out: the run took longer than its 0.3 s")
    sections = finished.report.items
    assert sections[0].text == "Timeout" and "waited" in stored["result"]
    assert stored["result"].index("Timeout") < stored["result"].index("waited")


def test_a_job_that_ignores_the_stop_signal_is_abandoned(parts):
    finished = run(parts, "Waits", 30, True, timeout=0.2)
    stored = row(parts, finished)
    assert stored["state"] == "timeout" and "abandoned" in stored["description"]
    assert finished.data is None


def test_a_stop_request_stops_a_running_run(parts):
    Waits.started.clear()
    eid = parts.lifecycle.create({"job_id": "job-1", "name": "a job"})
    result = {}
    thread = threading.Thread(target=lambda: result.update(run=run(parts, "Waits", 30,
                                                                   execution_id=eid)))
    thread.start()
    assert Waits.started.wait(10)
    assert parts.lifecycle.request_stop(eid) == "running"
    assert parts.runner.request_stop(eid)
    thread.join(20)
    stored = row(parts, eid)
    assert stored["state"] == "stopped"
    assert stored["description"] == "stopped on request while running"
    assert result["run"].report.items[0].text == "Stopped"


def test_a_claimed_execution_runs_once(parts):
    eid = parts.lifecycle.create({"job_id": "job-1", "name": "a job"})
    assert run(parts, "Finder", "x", execution_id=eid).state is S.SUCCEEDED
    assert run(parts, "Finder", "x", execution_id=eid) is None     # delivered twice
    assert row(parts, eid)["state"] == "succeeded"


def test_a_stopped_queued_execution_never_starts(parts):
    eid = parts.lifecycle.create({"job_id": "job-1", "name": "a job"})
    assert parts.lifecycle.request_stop(eid) == "scheduled"
    assert run(parts, "Finder", "x", execution_id=eid) is None
    assert row(parts, eid)["state"] == "stopped"


def test_a_class_that_cannot_be_loaded_is_a_scheduled_error(parts):
    assert run(parts, "Missing") is None
    rows, total = parts.store.list_executions(datetime.now(timezone.utc) - timedelta(minutes=1),
                                   datetime.now(timezone.utc) + timedelta(minutes=1), 10)
    assert total == 1 and rows[0]["state"] == "scheduled error"
    assert "cannot be loaded" in rows[0]["description"]


def test_a_disabled_class_does_not_run_and_records_nothing(parts):
    assert run(parts, "Disabled") is None
    assert parts.store.list_executions(datetime.now(timezone.utc) - timedelta(minutes=1),
                            datetime.now(timezone.utc) + timedelta(minutes=1), 10)[1] == 0


def test_at_shutdown_runs_are_asked_to_stop_and_the_rest_recorded_stopped(parts):
    Waits.started.clear()
    thread = threading.Thread(target=lambda: run(parts, "Waits", 3, True), daemon=True)
    thread.start()
    assert Waits.started.wait(10)
    left = parts.runner.stop_all(grace=0.3)
    assert len(left) == 1
    assert parts.lifecycle.abandon(left, "stopped: the server shut down") == 1
    assert row(parts, left[0])["state"] == "stopped"
    assert run(parts, "Finder", "x") is None       # no new runs once shutting down
    thread.join(15)
    assert row(parts, left[0])["state"] == "stopped"    # the late end does not move it


# -- around the run: resolvers and post-run steps ------------------------------------------------

def test_steps_run_in_order_and_only_what_precedes_recording_reaches_the_stored_report(parts):
    seen = []
    parts.steps.insert_before(RECORD, "add", lambda r: setattr(
        r.outcome, "report", r.outcome.report.with_items(Text("added before"))))
    parts.steps.append("after", lambda r: seen.append((r.recorded, "added before" in r.html)))
    parts.steps.insert_after(RECORD, "broken", lambda r: 1 / 0)
    assert parts.steps.names() == ["add", RECORD, "broken", "after"]
    finished = run(parts, "Finder", "x")
    assert seen == [(True, True)]                   # the broken step did not stop "after"
    assert "added before" in row(parts, finished)["result"]
    with pytest.raises(ValueError):
        parts.steps.append(RECORD, lambda r: None)


def test_a_step_before_recording_may_fail_the_run(parts):
    def refuse(run_):
        run_.outcome = run_.outcome.with_notice(S.FAILED, "Refused", "a finding was invalid")
    parts.steps.insert_before(RECORD, "check", refuse)
    stored = row(parts, run(parts, "Finder", "x"))
    assert (stored["state"], stored["description"]) == ("failed", "a finding was invalid")


def test_a_resolver_replaces_arguments_and_its_values_are_redacted_in_the_report(parts):
    def secrets(job_class, arguments, context):
        context.sensitive["API_KEY"] = "s3cr3t-value"
        return ["key is s3cr3t-value" if a == {"secret": "API_KEY"} else a for a in arguments]

    def refuse(job_class, arguments, context):
        raise ArgumentError("no such secret")

    parts.runner.resolvers.append(secrets)
    finished = run(parts, "Finder", {"secret": "API_KEY"})
    stored = row(parts, finished)
    assert finished.data == {"found": ["key is s3cr3t-value"]}     # the job got the value
    assert "s3cr3t-value" not in stored["result"]
    assert "key is [secret:API_KEY]" in stored["result"]
    parts.runner.resolvers.append(refuse)
    stored = row(parts, run(parts, "Finder", "x"))
    assert stored["state"] == "failed" and stored["description"] == "no such secret"


def test_secret_arguments_reach_the_job_and_never_its_report_or_description(parts, tmp_path):
    secrets = SecretStore(parts.store.engine, "scheduler_jobs",
                          KeySource(tmp_path / "secret.key", environ={}))
    secrets.create_table()
    secrets.create("API_KEY", "hunter2-very-secret")
    parts.runner.resolvers.insert(0, SecretArguments(secrets))
    finished = run(parts, "Finder", {"secret": "API_KEY"})
    assert finished.data == {"found": ["hunter2-very-secret"]}
    stored = row(parts, finished)
    assert "hunter2-very-secret" not in stored["result"] and "[secret:API_KEY]" in stored["result"]
    assert finished.pub_args == [{"secret": "API_KEY"}]     # a retry resolves it again
    failed = row(parts, run(parts, "Finder", {"secret": "GONE"}))
    assert failed["state"] == "failed" and "GONE" in failed["description"]
    assert "Bad argument" in failed["result"]


def test_a_failed_run_with_retries_left_queues_the_next_attempt_and_is_not_final(parts):
    queued = []
    parts.steps.append("retry", Retries(
        parts.lifecycle, lambda job, eid, at, extra, args: queued.append((eid, extra))))
    first = run(parts, "Crashes", retries=1, retry_delay=0)
    assert first.final is False
    ((eid, extra),) = queued
    assert extra == {"attempt": 2, "first_eid": first.execution_id}
    assert row(parts, eid)["state"] == "scheduled" and row(parts, eid)["attempt"] == 2
    second = run(parts, "Crashes", execution_id=eid, retries=1, retry_delay=0, **extra)
    assert second.final is True and len(queued) == 1     # the last attempt
    assert second.first_execution_id == first.execution_id


def test_runs_waiting_for_a_thread_at_shutdown_are_recorded_stopped_and_nothing_fires_after(
        parts):
    from apscheduler.schedulers.background import BackgroundScheduler

    from bots_scheduler.executors.threads import ThreadsExecutor

    executor = ThreadsExecutor(parts.lifecycle, parts.runner.registry, lambda: True,
                               lambda job: {"job_id": job.id, "name": job.name,
                                            "job_class_string": job.args[0]},
                               parts.runner, pool_size=1)
    executor.start(BackgroundScheduler(), "default")

    def job(number, name, *args):
        return SimpleNamespace(id=f"job-{number}", name=f"job {number}", kwargs={},
                               args=[f"t.{name}", f"job-{number}", *args],
                               misfire_grace_time=None, max_instances=1)

    now = datetime.now(timezone.utc)
    Waits.started.clear()
    executor.submit_job(job(1, "Waits", 2), [now])      # holds the only thread
    assert Waits.started.wait(10)
    executor.submit_job(job(2, "Finder", "a"), [now])   # wait for it
    executor.submit_job(job(3, "Finder", "b"), [now])
    executor.shutdown(wait=False)
    executor.submit_job(job(4, "Finder", "c"), [now])   # due in the same wake-up: not fired
    rows, total = parts.store.list_executions(now - timedelta(minutes=1),
                                              now + timedelta(minutes=1), 10)
    assert total == 3
    waiting = {r["job_id"]: r for r in rows if r["job_id"] in ("job-2", "job-3")}
    assert {r["state"] for r in waiting.values()} == {"stopped"}
    assert all("not started: the server shut down" in r["description"]
               for r in waiting.values())
    # the stopped ones no longer count as running instances of their jobs
    assert "job-2" not in executor._instances and "job-3" not in executor._instances
