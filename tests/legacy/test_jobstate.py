"""Jobs stored by ndscheduler 0.3.0 (APScheduler 3.0's pickled job state) are read with an
allow-list: what the real ndscheduler wrote is read as its API showed it, and a state that names
anything else is refused without running it."""
from __future__ import annotations

import os
import pickle
import sqlite3
import subprocess

import pytest

from bots_scheduler.legacy.jobstate import UnreadableJob, load_state, read_job
from tests.legacy.sources import FIXTURE, MANIFEST

CRON = ("month", "week", "day", "day_of_week", "hour", "minute")


def stored_jobs() -> dict[str, bytes]:
    conn = sqlite3.connect(FIXTURE)
    try:
        return dict(conn.execute("SELECT id, job_state FROM scheduler_jobs"))
    finally:
        conn.close()


def test_every_job_ndscheduler_stored_reads_as_its_api_showed_it():
    shown = {job["job_id"]: job for job in MANIFEST["jobs"]}
    stored = stored_jobs()
    assert set(stored) == set(shown)
    for job_id, blob in stored.items():
        job = read_job(job_id, blob)
        api = shown[job_id]
        assert (job.name, job.job_class_string, job.pub_args) == (
            api["name"], api["job_class_string"], api["pub_args"])
        assert {name: job.fields[name] for name in CRON} == {name: api[name] for name in CRON}
        assert job.paused == (api["next_run_time"] == "")


def test_time_zones_pickled_by_pytz_are_read_by_name():
    stored = stored_jobs()
    assert read_job("brussels0quarterly0last0day00000",
                    stored["brussels0quarterly0last0day00000"]).timezone == "Europe/Brussels"
    echo = MANIFEST["ids"]["echo"]
    assert read_job(echo, stored[echo]).timezone == "UTC"


class Touch:
    """Pickles to a call that would create a file."""

    def __init__(self, path, how):
        self.path, self.how = str(path), how

    def __reduce__(self):
        if self.how == "system":
            return os.system, (f"touch {self.path}",)
        if self.how == "popen":
            return subprocess.Popen, (["touch", self.path],)
        return eval, (f"open({self.path!r}, 'w')",)


@pytest.mark.parametrize("how", ["system", "popen", "eval"])
def test_a_state_that_would_run_code_is_refused_and_nothing_runs(tmp_path, how):
    marker = tmp_path / "pwned"
    hostile = _hostile(Touch(marker, how))
    with pytest.raises(UnreadableJob, match="does not need; not read"):
        read_job("evil", hostile)
    assert not marker.exists()


def _hostile(payload) -> bytes:
    return pickle.dumps({"version": 1, "id": "evil", "func": "x:run_job",
                         "args": ("a.B", "evil"), "kwargs": {"x": payload}}, protocol=4)


def test_protocol_zero_instance_opcodes_go_through_the_allow_list_too(tmp_path):
    marker = tmp_path / "pwned"
    hostile = f"(S'touch {marker}'\nios\nsystem\n.".encode()     # INST os.system
    with pytest.raises(UnreadableJob, match="os.system"):
        load_state(hostile)
    assert not marker.exists()


def test_an_allowed_name_called_with_arguments_is_still_refused():
    # REDUCE on a stand-in: it records nothing and takes no arguments
    blob = (b"\x80\x04\x8c\x19apscheduler.triggers.cron\x8c\x0bCronTrigger\x93"
            b"\x8c\x04evil\x85R.")
    with pytest.raises(UnreadableJob):
        load_state(blob)


@pytest.mark.parametrize("blob, reason", [
    (b"not a pickle", "cannot be read"),
    (b"\x80\x04\x95", "cannot be read"),
    (pickle.dumps([1, 2, 3]), "not a job state"),
    (b"\x80\x04K\x01\x82.", "cannot be read"),                  # EXT1 code 1: unregistered
    (b"\x80\x04\x8c\x01x\x94Q.", "persistent ids"),            # BINPERSID
    (b"x" * (2 << 20), "larger than"),
])
def test_malformed_states_are_refused_with_a_reason(blob, reason):
    with pytest.raises(UnreadableJob, match=reason):
        load_state(blob)


def test_a_state_whose_id_or_arguments_do_not_fit_is_refused():
    stored = stored_jobs()
    echo = MANIFEST["ids"]["echo"]
    with pytest.raises(UnreadableJob, match="does not match"):
        read_job("another-id", stored[echo])
