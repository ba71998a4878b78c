"""Bad input gets a 4xx with a JSON message, never a 500, and changes nothing."""
from __future__ import annotations

import pytest

HELLO = "bots_scheduler.jobs.builtin.sample.HelloJob"

DISABLED_JOB = '''
from bots_scheduler import *

class Hidden(JobBase):
    info = {"job_class_name": "Hidden", "enabled": False}

    @report
    def run(self, *args):
        return Text("never")
'''

BAD_BODIES = [
    ({"name": "x"}, "job_class_string is required"),
    ({"job_class_string": "nope.Nope", "name": "x"}, "unknown job class"),
    ({"job_class_string": "extra.Hidden", "name": "x"}, "disabled"),
    ({"job_class_string": HELLO}, "name is required"),
    ({"job_class_string": HELLO, "name": "  "}, "name is required"),
    ({"job_class_string": HELLO, "name": "x", "minute": "61"}, "minute"),
    ({"job_class_string": HELLO, "name": "x", "hour": "25"}, "hour"),
    ({"job_class_string": HELLO, "name": "x", "day_of_week": "funday"}, "day_of_week"),
    ({"job_class_string": HELLO, "name": "x", "month": "13"}, "month"),
    ({"job_class_string": HELLO, "name": "x", "minute": ["1"]}, "minute"),
    ({"job_class_string": HELLO, "name": "x", "pub_args": "a b"}, "pub_args must be a JSON list"),
    ({"job_class_string": HELLO, "name": "x", "pub_args": {"a": 1}},
     "pub_args must be a JSON list"),
    ({"job_class_string": HELLO, "name": "x", "timezone": "Mars/Olympus"}, "timezone"),
    ({"job_class_string": 42, "name": "x"}, "job_class_string"),
]


@pytest.fixture
def srv(server, workdir):
    (workdir / "jobs").mkdir()
    (workdir / "jobs" / "extra.py").write_text(DISABLED_JOB)
    return server()


@pytest.mark.parametrize("body,message", BAD_BODIES)
def test_a_bad_job_body_is_refused_with_400_and_a_message(srv, body, message):
    r = srv.post("/api/v1/jobs", json=body)
    assert r.status_code == 400, r.text
    assert message in r.json()["error"]
    assert srv.get("/api/v1/jobs").json()["jobs"] == []
    assert srv.get("/api/v1/logs").json()["logs"] == []


@pytest.mark.parametrize("raw", [b"{not json", b"[1, 2]", b"\xff\xfe", b'"text"'])
def test_malformed_json_is_400(srv, raw):
    r = srv.post("/api/v1/jobs", data=raw, headers={"Content-Type": "application/json"})
    assert r.status_code == 400
    assert r.json()["error"]


def test_an_oversized_body_is_413(srv):
    body = b'{"name": "' + b"x" * (2 * 1024 * 1024) + b'"}'
    r = srv.post("/api/v1/jobs", data=body, headers={"Content-Type": "application/json"})
    assert r.status_code == 413
    assert "larger" in r.json()["error"]


def test_a_bad_modification_leaves_the_job_unchanged(srv):
    job_id = srv.add_job(HELLO, "keep", ["a"], minute="5")
    r = srv.api("PUT", f"/api/v1/jobs/{job_id}", json={"minute": "99", "name": "changed"})
    assert r.status_code == 400 and "minute" in r.json()["error"]
    job = srv.get(f"/api/v1/jobs/{job_id}").json()
    assert (job["name"], job["minute"]) == ("keep", "5")


@pytest.mark.parametrize("method,path", [
    ("GET", "/api/v1/jobs/{x}"), ("PUT", "/api/v1/jobs/{x}"), ("DELETE", "/api/v1/jobs/{x}"),
    ("PATCH", "/api/v1/jobs/{x}"), ("OPTIONS", "/api/v1/jobs/{x}"),
    ("POST", "/api/v1/executions/{x}"), ("GET", "/api/v1/executions/{x}"),
    ("GET", "/api/v1/nothing-here"),
])
def test_unknown_ids_are_404_with_a_json_message(srv, method, path):
    r = srv.api(method, path.format(x="0123456789abcdef"), json={"name": "n"})
    assert r.status_code == 404
    assert r.json()["error"]


@pytest.mark.parametrize("query,message", [
    ("time_range_start=yesterday", "time_range_start"),
    ("time_range_end=2026-13-01T00:00:00", "time_range_end"),
    ("time_range_start=2026-01-02T00:00:00Z&time_range_end=2026-01-01T00:00:00Z", "after"),
    ("limit=0", "limit"), ("limit=abc", "limit"), ("offset=-1", "offset"),
    ("state=exploded", "state"),
])
def test_bad_list_parameters_are_400(srv, query, message):
    for path in ("/api/v1/executions", "/api/v1/logs"):
        if "state" in query and "logs" in path:
            continue
        r = srv.get(f"{path}?{query}")
        assert r.status_code == 400, (path, r.text)
        assert message in r.json()["error"]


def test_a_disabled_job_class_is_not_listed(srv):
    classes = [c["job_class_string"] for c in srv.get("/api/v1/jobclasses").json()["job_classes"]]
    assert HELLO in classes and "extra.Hidden" not in classes
