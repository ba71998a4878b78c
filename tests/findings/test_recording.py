"""The "findings" post-run step: what it records of a run, and what it leaves alone."""
from __future__ import annotations

import json

from bots_scheduler import jsontext
from bots_scheduler.executions.outcome import FinishedRun, Outcome
from bots_scheduler.executions.states import ExecutionState
from bots_scheduler.findings import Finding
from bots_scheduler.findings.recording import FindingRecorder
from bots_scheduler.jobs.report import Report, Section


def run(eid, state="succeeded", items=(), recorded=True, sensitive=None) -> FinishedRun:
    return FinishedRun(eid, "j1", {"job_id": "j1", "job_class_string": "m.C"}, None,
                       Outcome(ExecutionState(state), Report("t", [Section("s", *items)])),
                       recorded=recorded, sensitive=sensitive or {})


def test_a_succeeded_run_is_recorded_and_handed_on(finding_store):
    step = FindingRecorder(finding_store)
    finished = run("e1", items=[Finding("hostname", "a.example")])
    step.on_run_finished(finished)
    assert finished.findings.counts.new == 1
    assert finding_store.list_findings(10)[1] == 1


def test_a_failed_run_or_one_whose_row_was_not_final_changes_nothing(finding_store):
    step = FindingRecorder(finding_store)
    step.on_run_finished(run("e1", items=[Finding("hostname", "a.example")]))
    for finished in (run("e2", "failed"), run("e3", "timeout"), run("e4", recorded=False)):
        step.on_run_finished(finished)
        assert finished.findings is None
    assert [f["state"] for f in finding_store.list_findings(10)[0]] == ["open"]


def test_secret_values_in_a_finding_are_stored_as_their_names(finding_store):
    step = FindingRecorder(finding_store)
    leaky = Finding("api", "key sk-999", "uses sk-999", "high", seen=["sk-999"],
                    nested={"k": "sk-999"})
    step.on_run_finished(run("e1", items=[leaky], sensitive={"shodan": "sk-999"}))
    (stored,), _ = finding_store.list_findings(10)
    text = jsontext.dumps(stored).decode()
    assert "sk-999" not in text
    stored = json.loads(text)
    assert (stored["key"], stored["title"]) == ("key [secret:shodan]", "uses [secret:shodan]")
    assert stored["details"] == {"seen": ["[secret:shodan]"], "nested": {"k": "[secret:shodan]"}}
