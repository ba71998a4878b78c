"""GET /api/v1/executions/stats: counts per state and per UTC day and state, over a time range
(the Reports tab's statistics and chart)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from tests.ui.seed import execution_row, insert_executions

HELLO = "bots_scheduler.jobs.builtin.sample.HelloJob"


def test_counts_per_state_and_per_day_within_the_range(server, workdir):
    srv = server()
    job = {"job_id": srv.add_job(HELLO, "counted", minute="0"), "name": "counted",
           "job_class_string": HELLO}
    noon = datetime.now(timezone.utc).replace(hour=12, minute=0, second=0, microsecond=0)
    insert_executions(workdir, [
        execution_row(job, "succeeded", noon - timedelta(days=1)),
        execution_row(job, "succeeded", noon - timedelta(days=1, hours=2)),
        execution_row(job, "failed", noon - timedelta(days=1, hours=3)),
        execution_row(job, "succeeded", noon - timedelta(days=2)),
        execution_row(job, "timeout", noon - timedelta(days=40)),
    ])
    start = (noon - timedelta(days=10)).isoformat()
    stats = srv.get("/api/v1/executions/stats", params={"time_range_start": start}).json()
    assert stats["by_state"] == {"succeeded": 3, "failed": 1}
    day = lambda d: (noon - timedelta(days=d)).date().isoformat()  # noqa: E731
    assert sorted((r["day"], r["state"], r["count"]) for r in stats["per_day"]) == [
        (day(2), "succeeded", 1), (day(1), "failed", 1), (day(1), "succeeded", 2)]
    everything = srv.get("/api/v1/executions/stats",
                         params={"time_range_start": "1970-01-01T00:00:00Z"}).json()
    assert everything["by_state"] == {"succeeded": 3, "failed": 1, "timeout": 1}


def test_a_bad_range_is_a_400(server):
    srv = server()
    r = srv.get("/api/v1/executions/stats", params={"time_range_start": "yesterday"})
    assert r.status_code == 400 and "time_range_start" in r.json()["error"]
