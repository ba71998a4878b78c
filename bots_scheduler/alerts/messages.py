"""The text of an alert: short enough for a chat message, whole enough to act on.

Title: the job and what happened.  Body: the job, the run's state, the counts of its findings,
the first new (changed, gone) findings, and the execution id; a long list is cut with
"and N more".  Plain text: every service Apprise reaches shows it as it is.
"""
from __future__ import annotations

from dataclasses import dataclass

MAX_LISTED = 10          # findings listed per kind of change
MAX_LINE = 200           # characters of one listed finding
MAX_DESCRIPTION = 500    # characters of a failure's reason
PREFIX = "Bots Scheduler"


@dataclass(frozen=True)
class AlertMessage:
    title: str
    body: str
    failure: bool = False        # shown as a failure where the service has message types


def _line(finding) -> str:
    kind, key = _get(finding, "kind"), _get(finding, "key")
    title, severity = _get(finding, "title"), _get(finding, "severity")
    text = f"- [{severity}] {kind} {key}" + (f" — {title}" if title else "")
    return text if len(text) <= MAX_LINE else text[:MAX_LINE - 1] + "…"


def _get(finding, name):
    return finding.get(name) if isinstance(finding, dict) else getattr(finding, name, None)


def _listing(heading: str, findings) -> list[str]:
    findings = list(findings)
    if not findings:
        return []
    lines = ["", f"{heading}:"] + [_line(f) for f in findings[:MAX_LISTED]]
    if len(findings) > MAX_LISTED:
        lines.append(f"… and {len(findings) - MAX_LISTED} more")
    return lines


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def build_message(job_name: str, job_id: str, state: str, execution_id: str,
                  events: frozenset | set, recorded=None, description: str = "") -> AlertMessage:
    """The alert for one run and the ``events`` it triggered for a profile."""
    counts = recorded.counts if recorded is not None else None
    if "failure" in events:
        summary = f"run {state}"
    elif "recovery" in events:
        summary = "recovered: the run succeeded after a failure"
    elif counts is not None and "new-findings" in events and counts.new:
        summary = _plural(counts.new, "new finding")
    elif counts is not None and "changed-findings" in events and counts.changed:
        summary = _plural(counts.changed, "changed finding")
    elif counts is not None and "gone-findings" in events and counts.gone:
        summary = _plural(counts.gone, "finding") + " gone"
    else:
        summary = f"run {state}"
    lines = [f"Job: {job_name} ({job_id})", f"State: {state}"]
    if counts is not None and (counts.new or counts.changed or counts.unchanged or counts.gone):
        lines.append(f"Findings: {counts.new} new, {counts.changed} changed, "
                     f"{counts.gone} gone, {counts.unchanged} unchanged")
    if state != "succeeded" and description:
        reason = description if len(description) <= MAX_DESCRIPTION else \
            description[:MAX_DESCRIPTION - 1] + "…"
        lines.append(f"Reason: {reason}")
    if recorded is not None:
        lines += _listing("New findings", recorded.new)
        if "changed-findings" in events:
            lines += _listing("Changed findings", recorded.changed)
        if "gone-findings" in events:
            lines += _listing("Gone findings", recorded.gone)
    lines += ["", f"Execution: {execution_id}"]
    return AlertMessage(f"{PREFIX}: {job_name}: {summary}", "\n".join(lines),
                        failure="failure" in events)
