"""Export and import of job definitions: CLI and API, idempotent, with a dry run."""
from __future__ import annotations

import json

import pytest

from tests.production.conftest import cli

HELLO = "bots_scheduler.jobs.builtin.sample.HelloJob"


def add_jobs(srv) -> list[str]:
    ids = [srv.add_job(HELLO, "nightly", ["night", 0], minute="15", hour="2",
                       timezone="Europe/Brussels", retries=2, retry_delay=30, timeout=600),
           srv.add_job(HELLO, "weekly", ["week"], day_of_week="mon", hour="6", minute="0",
                       notify_changes=True)]
    srv.api("PATCH", f"/api/v1/jobs/{ids[1]}")
    return ids


def comparable(jobs: list[dict]) -> list[dict]:
    return sorted(({k: v for k, v in job.items() if k != "next_run_time"} for job in jobs),
                  key=lambda job: job["job_id"])


def test_export_wipe_import_gives_the_same_jobs_and_importing_twice_changes_nothing(
        server, workdir):
    srv = server()
    add_jobs(srv)
    before = comparable(srv.get("/api/v1/jobs").json()["jobs"])
    srv.stop()
    exported = cli(workdir, "export")
    assert exported.returncode == 0, exported.stderr
    (workdir / "jobs.json").write_text(exported.stdout)
    document = json.loads(exported.stdout)
    assert (document["format"], document["version"], len(document["jobs"])) == \
        ("bots-scheduler-jobs", 1, 2)
    assert cli(workdir, "clean", "-y").returncode == 0
    first = cli(workdir, "import", "jobs.json")
    assert first.returncode == 0, first.stderr
    assert "2 job(s) were added, 0 modified, 0 unchanged" in first.stdout
    second = cli(workdir, "import", "jobs.json")
    assert "0 job(s) were added, 0 modified, 2 unchanged" in second.stdout
    srv.start()
    assert comparable(srv.get("/api/v1/jobs").json()["jobs"]) == before
    events = [log["event"] for log in srv.get("/api/v1/logs").json()["logs"]]
    assert sorted(events) == ["added", "added", "paused"]      # the second import wrote nothing


def test_a_dry_run_shows_what_would_change_and_changes_nothing(server, workdir):
    srv = server()
    nightly, _weekly = add_jobs(srv)
    document = srv.get("/api/v1/export").json()
    document["jobs"][[j["job_id"] for j in document["jobs"]].index(nightly)]["hour"] = "4"
    document["jobs"].append({**document["jobs"][0], "job_id": "new-one", "name": "new"})
    response = srv.post("/api/v1/import", params={"dry_run": "true"}, json=document)
    assert response.status_code == 200
    result = response.json()
    assert (result["dry_run"], result["added"], result["modified"], result["unchanged"]) == \
        (True, 1, 1, 1)
    change = next(j for j in result["jobs"] if j["job_id"] == nightly)
    assert change["changes"] == ["hour: '2' → '4'"]
    assert srv.get(f"/api/v1/jobs/{nightly}").json()["hour"] == "2"
    assert srv.get("/api/v1/jobs/new-one").status_code == 404
    applied = srv.post("/api/v1/import", json=document).json()
    assert (applied["added"], applied["modified"]) == (1, 1)
    assert srv.get(f"/api/v1/jobs/{nightly}").json()["hour"] == "4"
    assert srv.get("/api/v1/jobs/new-one").json()["name"] == "new"
    again = srv.post("/api/v1/import", json=document).json()
    assert (again["added"], again["modified"], again["unchanged"]) == (0, 0, 3)


def test_import_resumes_and_pauses_jobs_as_the_document_says(server):
    srv = server()
    _nightly, weekly = add_jobs(srv)
    document = srv.get("/api/v1/export").json()
    for job in document["jobs"]:
        job["paused"] = not job["paused"]
    assert srv.post("/api/v1/import", json=document).json()["modified"] == 2
    jobs = {job["job_id"]: job for job in srv.get("/api/v1/jobs").json()["jobs"]}
    assert jobs[weekly]["paused"] is False and jobs[weekly]["next_run_time"]
    assert sum(job["paused"] for job in jobs.values()) == 1


@pytest.mark.parametrize("document,message", [
    ([], "JSON object"),
    ({"format": "other", "version": 1, "jobs": []}, "format"),
    ({"format": "bots-scheduler-jobs", "version": 99, "jobs": []}, "version 99"),
    ({"format": "bots-scheduler-jobs", "version": 1, "jobs": [{"job_id": "a b"}]}, "job_id"),
    ({"format": "bots-scheduler-jobs", "version": 1,
      "jobs": [{"job_id": "a", "name": "a", "job_class_string": "no.Such"}]}, "unknown job"),
])
def test_a_bad_document_is_refused_whole_with_a_clear_error(server, document, message):
    srv = server()
    good = {"job_id": "good", "name": "good", "job_class_string": HELLO}
    if isinstance(document, dict):
        document = {**document, "jobs": [good, *document["jobs"]]}
    response = srv.post("/api/v1/import", json=document)
    assert response.status_code == 400
    assert message in response.json()["error"]
    assert srv.get("/api/v1/jobs").json()["jobs"] == []


@pytest.mark.integration      # a bots-scheduler process
def test_the_cli_refuses_a_bad_file_with_one_line_and_status_2(workdir):
    (workdir / "bad.json").write_text("{not json")
    for args in (["import", "bad.json"], ["import", "missing.json"]):
        result = cli(workdir, *args)
        assert result.returncode == 2
        assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr


@pytest.mark.integration      # a bots-scheduler process
def test_the_cli_dry_run_reads_standard_input_and_changes_nothing(workdir):
    document = {"format": "bots-scheduler-jobs", "version": 1,
                "jobs": [{"job_id": "j1", "name": "from stdin", "job_class_string": HELLO}]}
    result = cli(workdir, "import", "-", "--dry-run", stdin=json.dumps(document))
    assert result.returncode == 0, result.stderr
    assert "add" in result.stdout and "1 job(s) would be added" in result.stdout
    assert json.loads(cli(workdir, "export").stdout)["jobs"] == []
