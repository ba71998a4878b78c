"""A run's result as values: the ``Outcome`` (state, report, data, notification request) and the
``FinishedRun`` that carries it, with the facts of the execution, through the post-run steps.

Nothing here is HTML: the report stays a ``Report`` of items until the recording step renders
it, once.  A step that has something to add (a notice, the changes since the previous run, a
finding that fails the run) changes the outcome before that step.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime

from bots_scheduler.executions.states import ExecutionState
from bots_scheduler.jobs.report import Renderer, Report, Section, Text

DESCRIPTION_LIMIT = 2000     # characters of the one-line reason kept with the execution


@dataclass
class Outcome:
    state: ExecutionState
    report: Report
    description: str = ""            # why it ended so (the execution's ``description``)
    data: object = None              # what the job handed over (JobBase.data)
    notify: bool | None = None       # the job's request: None decide from data, True, False

    @classmethod
    def ended(cls, state: ExecutionState, title: str, message: str, *more) -> "Outcome":
        """An outcome whose report is one section saying ``message`` (then ``more`` items):
        how every run that ends without a report of its own is recorded."""
        return cls(ExecutionState(state), Report(title, [Section(title, Text(message), *more)]),
                   message)

    def with_notice(self, state: ExecutionState, title: str, message: str) -> "Outcome":
        """This outcome turned into ``state``, with a section saying why first in its report."""
        return replace(self, state=ExecutionState(state), description=message,
                       report=self.report.with_notice(title, message))

    @property
    def succeeded(self) -> bool:
        return self.state is ExecutionState.SUCCEEDED


@dataclass
class FinishedRun:
    """One run that has ended, as the post-run steps see it (executions/steps.py)."""

    execution_id: str
    job_id: str
    job: dict                         # the job as it ran (the execution's ``job``)
    job_class: type | None
    outcome: Outcome
    attempt: int = 1
    first_execution_id: str = ""
    scheduled_time: datetime | None = None   # when it was due (None: unknown)
    started_time: datetime | None = None
    finished_time: datetime | None = None
    # False once another attempt is queued (retries): the last attempt is the one told about
    final: bool = True
    may_retry: bool = True            # False while the process shuts down
    # values that must never appear in a report: {name: value} (CONTRACT §7); the argument
    # resolvers fill it, the renderers of the report show [secret:NAME] instead
    sensitive: dict[str, str] = field(default_factory=dict)
    # the arguments as the run was given them (secret references unresolved; the job view's
    # secret-typed values are masked): what a retry runs with
    pub_args: list = field(default_factory=list)
    # set by the recording step: whether the row took the final state, and the HTML stored
    recorded: bool = False
    html: str = ""
    # what steps leave for later steps, by step name (e.g. "changes")
    notes: dict = field(default_factory=dict)
    # set by the "findings" step: what recording the run's findings did (findings.store
    # .Recorded; None when nothing was recorded), for the e-mail and alert steps after it
    findings: object = None

    def renderer(self, image_source=None) -> Renderer:
        """The renderer of this run's report: its sensitive values shown as [secret:NAME]."""
        return Renderer(redact=redactor(self.sensitive), image_source=image_source)

    def redact(self, text: str) -> str:
        """``text`` (an error message, a log line) with this run's sensitive values hidden."""
        redact = redactor(self.sensitive)
        return redact(text) if redact is not None else text

    # -- shortcuts of the outcome, for steps and listeners ---------------------------------
    @property
    def state(self) -> ExecutionState:
        return self.outcome.state

    @property
    def data(self):
        return self.outcome.data

    @property
    def notify(self) -> bool | None:
        return self.outcome.notify

    @property
    def report(self) -> Report:
        return self.outcome.report

    @property
    def items(self) -> list:
        """The report's items (findings among them)."""
        return self.outcome.report.items

    @property
    def description(self) -> str:
        return self.outcome.description

    @property
    def title(self) -> str:
        return self.outcome.report.title

    @property
    def job_name(self) -> str:
        return (self.job or {}).get("name") or self.job_id or "job"


def redactor(sensitive: dict[str, str]):
    """``text -> text`` with each value of ``sensitive`` ({name: value}) replaced by
    ``[secret:NAME]`` (its HTML-escaped form too); None when there is nothing to hide."""
    from bots_scheduler.secrets.redaction import Redactor
    redactor_ = Redactor(sensitive)
    return redactor_.text if redactor_ else None
