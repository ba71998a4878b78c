"""Findings: what a run found, as items with an identity (job, kind, key), and what changed
since the job's previous successful run (new, changed, unchanged, gone).

The report item jobs return is ``jobs.finding.Finding`` (with the other report items, re-exported
here); ``tables`` and ``store`` keep the findings, their
history and the counts of each run in the datastore; ``recording`` is the post-run step that
records a succeeded run's findings.
"""
from bots_scheduler.jobs.finding import (CHANGES, SEVERITIES, STATES, Finding, InvalidFinding,
                                         collect_findings)

__all__ = ["Finding", "InvalidFinding", "collect_findings", "SEVERITIES", "STATES", "CHANGES"]
