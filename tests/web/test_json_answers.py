"""The API's JSON answers: orjson, stored JSON passed through, and what orjson cannot take."""
from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest

from bots_scheduler.datastore.store import to_iso
from bots_scheduler.jsontext import RawJSON, dumps

HELLO = "bots_scheduler.jobs.builtin.sample.HelloJob"
HUGE = 2 ** 70      # beyond orjson's 64 bits; Python's json takes it


def test_stored_json_text_is_embedded_as_it_is():
    stored = json.dumps({"job_id": "j1", "pub_args": ["é", 1.5, None]})
    out = json.loads(dumps({"executions": [{"job": RawJSON(stored), "n": [RawJSON("[]")]}]}))
    assert out == {"executions": [{"job": {"job_id": "j1", "pub_args": ["é", 1.5, None]},
                                   "n": [[]]}]}


def test_what_orjson_refuses_is_written_by_the_standard_library():
    out = json.loads(dumps({"args": [HUGE], "job": RawJSON(json.dumps({"big": HUGE}))}))
    assert out == {"args": [HUGE], "job": {"big": HUGE}}


def test_keys_tuples_and_text_as_the_standard_encoder_gives_them():
    payload = {1: "int key", "ids": ("a", "b"), "none": None, "text": "<é>", "n": 1.5}
    assert json.loads(dumps(payload)) == json.loads(json.dumps(payload))


@pytest.mark.parametrize("big", [False, True], ids=["orjson", "standard library"])
def test_datetimes_are_iso_8601_and_naive_ones_utc_as_the_datastore_prints_them(big):
    moments = [datetime(2026, 3, 29, 1, 30), datetime(2026, 3, 29, 1, 30, 0, 120),
               datetime(2026, 10, 25, 2, 30, 5, tzinfo=timezone.utc)]
    out = json.loads(dumps({"times": moments, "big": 2 ** 70 if big else 0}))
    assert out["times"] == ["2026-03-29T01:30:00+00:00", "2026-03-29T01:30:00.000120+00:00",
                            "2026-10-25T02:30:05+00:00"]
    assert out["times"] == [to_iso(moment) for moment in moments]


def test_job_and_execution_lists_carry_arguments_beyond_64_bits(server):
    srv = server()
    job_id = srv.add_job(HELLO, "huge", ["x", 0, HUGE], minute="0")
    jobs = srv.get("/api/v1/jobs").json()["jobs"]
    assert [job["pub_args"] for job in jobs] == [["x", 0, HUGE]]
    eid = srv.api("POST", f"/api/v1/executions/{job_id}").json()["execution_id"]
    srv.wait_for(lambda: srv.get(f"/api/v1/executions/{eid}").json()["state"] == "succeeded",
                 what="the run")
    listed = srv.get("/api/v1/executions").json()["executions"]
    one = srv.get(f"/api/v1/executions/{eid}").json()
    assert [e["execution_id"] for e in listed] == [eid]
    # the list passes the stored job through; it must read as the single execution's job
    assert listed[0]["job"] == one["job"] and listed[0]["job"]["pub_args"] == ["x", 0, HUGE]
    assert listed[0]["notifications"] == one["notifications"] == []


def test_listed_executions_carry_their_report_unless_asked_not_to(server):
    srv = server()
    job_id = srv.add_job(HELLO, "reported", ["<i>zoe</i>"], minute="0")
    eid = srv.api("POST", f"/api/v1/executions/{job_id}").json()["execution_id"]
    report = srv.wait_execution(eid)["result"]
    assert "Hello, &lt;i&gt;zoe&lt;/i&gt;!" in report
    listed = srv.get("/api/v1/executions").json()["executions"]
    assert [e["result"] for e in listed] == [report]           # CONTRACT §3 Execution object
    for light in ("false", "0", "no"):
        items = srv.get(f"/api/v1/executions?result={light}").json()["executions"]
        assert [e["execution_id"] for e in items] == [eid] and "result" not in items[0]
    assert srv.get("/api/v1/executions?result=true").json()["executions"][0]["result"] == report
    bad = srv.get("/api/v1/executions?result=maybe")
    assert bad.status_code == 400 and bad.json() == {
        "error": "result must be true or false, not 'maybe'"}
