"""A job whose findings the test controls between runs, and helpers to run it."""
from __future__ import annotations

import json
import textwrap

JOB = textwrap.dedent('''
    import json
    from bots_scheduler import *

    class Controlled(JobBase):
        """Reports the findings listed in data/findings.txt; {"fail": "why"} fails the run
        after making them; {"bad": ...} returns a Finding with that bad value."""
        info = {"job_class_name": "Controlled findings", "report_title": "Controlled",
                "arguments": [{"type": "file", "description": "JSON list"}]}

        @report
        def run(self, path):
            with open(path) as handle:
                spec = json.load(handle)
            if "bad" in spec:
                return [Finding(**spec["bad"])]
            found = [Finding(f["kind"], f["key"], f.get("title"), f.get("severity", "info"),
                             **f.get("details", {})) for f in spec["findings"]]
            if spec.get("fail"):
                raise JobFailed(spec["fail"])
            return [Section("Found", *found)]
''')


def write_job(workdir) -> None:
    (workdir / "jobs").mkdir(exist_ok=True)
    (workdir / "jobs" / "controlled.py").write_text(JOB)
    (workdir / "data").mkdir(exist_ok=True)


def port(key: str, title: str = "SSH", severity: str = "low", **details) -> dict:
    return {"kind": "open-port", "key": key, "title": title, "severity": severity,
            "details": details}


def run_with(srv, workdir, job_id: str, findings=None, **spec) -> dict:
    """Run the job now with these findings; return the ended execution."""
    spec.setdefault("findings", findings or [])
    (workdir / "data" / "findings.txt").write_text(json.dumps(spec))
    response = srv.post(f"/api/v1/executions/{job_id}")
    assert response.status_code == 200, response.text
    execution = srv.wait_execution(response.json()["execution_id"])
    if execution["state"] != "succeeded" or not (spec["findings"] or spec.get("expect_gone")):
        return execution
    # the findings are recorded right after the run's state is (a post-run step)
    return srv.wait_for(lambda: (lambda e: e if any(e["findings"].values()) else None)(
        srv.get(f"/api/v1/executions/{execution['execution_id']}").json()),
        timeout=10, what="the run's findings to be recorded")


def add_job(srv, name: str = "controlled", **fields) -> str:
    """The controlled job, paused: it runs only when the test runs it (``run_with``), never on
    its default every-minute schedule in the middle of a test (an extra run there changed the
    counts a test expects whenever it crossed a minute)."""
    job_id = srv.add_job("controlled.Controlled", name, ["findings.txt"], **fields)
    paused = srv.api("PATCH", f"/api/v1/jobs/{job_id}")
    assert paused.status_code == 200, paused.text
    return job_id
