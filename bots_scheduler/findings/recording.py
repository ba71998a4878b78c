"""The post-run step that records a run's findings (CONTRACT §8).

Only a succeeded run is recorded: a failed, stopped or timed-out run changes nothing (its
findings may be partial, and "gone" would be a lie).  What recording did (``Recorded``: the
counts and the new, changed and gone findings) is handed on with the outcome, for the e-mail's
"only what is new" mode and for alerts, which come after this step.
"""
from __future__ import annotations

import logging
from collections.abc import Callable

from bots_scheduler.executions.outcome import FinishedRun
from bots_scheduler.executions.states import ExecutionState
from bots_scheduler.jobs.finding import Finding, collect_findings
from bots_scheduler.jobs.report import ReportItem, Section, Subsection, Table, Text
from bots_scheduler.findings.store import FindingStore, Recorded

log = logging.getLogger(__name__)


class FindingRecorder:
    """The "findings" post-run step (app.py: after "record", before "notify" and "alerts")."""

    def __init__(self, store: FindingStore):
        self.store = store

    def record(self, run: FinishedRun) -> Recorded | None:
        """Record the findings of ``run``; None when it did not succeed, or when its row did
        not take its final state (stopped meanwhile): such a run changes nothing."""
        if run.state is not ExecutionState.SUCCEEDED or not run.recorded:
            return None
        findings = collect_findings(run.items)
        if run.sensitive:    # a secret value a job put in a finding is stored as [secret:NAME]
            findings = [redacted(finding, run.redact) for finding in findings]
        recorded = self.store.record(run.job_id, (run.job or {}).get("job_class_string", ""),
                                     run.execution_id, findings, run.finished_time)
        if recorded.used:
            log.info("findings: execution %s of job %s: %s", run.execution_id, run.job_id,
                     recorded.counts.as_dict())
        return recorded

    def on_run_finished(self, run: FinishedRun) -> None:
        """Records, and leaves the result on ``run.findings`` for the steps after it.  A
        datastore problem is logged; the run's state stays as it is."""
        try:
            run.findings = self.record(run)
        except Exception:
            log.exception("findings: execution %s of job %s not recorded",
                          run.execution_id, run.job_id)
            run.findings = None


def redacted(finding: Finding, redact: Callable[[str], str]) -> Finding:
    """``finding`` with ``redact`` applied to each of its strings (details included)."""
    def clean(value):
        if isinstance(value, str):
            return redact(value)
        if isinstance(value, list):
            return [clean(item) for item in value]
        if isinstance(value, dict):
            return {redact(key): clean(item) for key, item in value.items()}
        return value
    return Finding(redact(finding.kind), redact(finding.key),
                   redact(finding.title) if finding.title is not None else None,
                   finding.severity, **clean(finding.details))


SECTION_TITLE = "Findings: what changed since the previous successful run"


def changes_section(recorded: Recorded) -> Section:
    """The report items listing a recorded run's new, changed and gone findings (the e-mail of
    the "only what is new" mode)."""
    counts = recorded.counts
    items: list[ReportItem] = [Text(f"{counts.new} new, {counts.changed} changed, "
                                    f"{counts.gone} gone, {counts.unchanged} unchanged.")]
    if recorded.new:
        items.append(Subsection("New", *recorded.new))
    if recorded.changed:
        items.append(Subsection("Changed", *recorded.changed))
    if recorded.gone:
        items.append(Subsection("Gone", Table(
            [[g["severity"], g["kind"], g["key"], g["title"] or ""] for g in recorded.gone],
            headers=["severity", "kind", "key", "title"])))
    return Section(SECTION_TITLE, *items)
