"""Executions: one owner for a run's life, from a firing to a recorded report.

- ``states``: ``ExecutionState`` and the moves allowed between states;
- ``store``: every SQL statement on executions, firings and audit-log rows;
- ``lifecycle``: creating executions and the one ``transition`` call that moves their state;
- ``runner``: running one execution and deciding how it ended (an ``Outcome``);
- ``outcome``: the run's result as values (``Outcome``, ``FinishedRun``);
- ``steps``: argument resolvers before a run, the ordered post-run steps after it;
- ``retries``, ``stop``, ``deadline``: retrying, stopping on request, running under a deadline.

app.py wires them together.
"""
from bots_scheduler.executions.outcome import FinishedRun, Outcome
from bots_scheduler.executions.states import ExecutionState

__all__ = ["ExecutionState", "FinishedRun", "Outcome"]
