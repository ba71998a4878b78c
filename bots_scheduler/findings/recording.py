"""The post-run step that records a run's findings (CONTRACT §8).

Only a succeeded run is recorded: a failed, stopped or timed-out run changes nothing (its
findings may be partial, and "gone" would be a lie).  What recording did (``Recorded``: the
counts and the new, changed and gone findings) is handed on with the outcome, for the e-mail's
"only what is new" mode and for alerts, which come after this step.
"""
from __future__ import annotations

import logging

from bots_scheduler.jobs.finding import collect_findings
from bots_scheduler.jobs.report import ReportItem, Section, Subsection, Table, Text
from bots_scheduler.findings.store import FindingStore, Recorded

log = logging.getLogger(__name__)


class FindingRecorder:
    def __init__(self, store: FindingStore):
        self.store = store

    def record(self, outcome) -> Recorded | None:
        """Record ``outcome``'s findings; None when the run did not succeed."""
        if outcome.state != "succeeded":
            return None
        findings = collect_findings(getattr(outcome, "items", None))
        job = outcome.job or {}
        recorded = self.store.record(outcome.job_id, job.get("job_class_string", ""),
                                     outcome.execution_id, findings,
                                     getattr(outcome, "finished_time", None))
        if recorded.counts.any_change or recorded.counts.unchanged:
            log.info("findings: execution %s of job %s: %s", outcome.execution_id,
                     outcome.job_id, recorded.counts.as_dict())
        return recorded

    def on_run_finished(self, outcome) -> None:
        """A run listener: records, and leaves the result on ``outcome.findings`` for the
        listeners after it.  A datastore problem is logged; the run's state stays as it is."""
        try:
            outcome.findings = self.record(outcome)
        except Exception:
            log.exception("findings: execution %s of job %s not recorded",
                          outcome.execution_id, outcome.job_id)
            outcome.findings = None


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
