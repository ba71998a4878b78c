"""The states of an execution (CONTRACT §3) and the moves allowed between them.

    scheduled ──> running ──> succeeded | failed | timeout | stopped
        │            └──> stopping ──> stopped (or how the run ended before it noticed)
        └──> stopped (stopped before it started) | failed (missed, not queued, orphaned)
             | scheduled error (its job class cannot be loaded)

An execution is created ``scheduled`` (a firing, run-now, a retry), ``running`` (a run started
directly) or ``scheduled error``.  The four states on the right and ``scheduled error`` are
final: nothing moves an execution out of them.  ``Lifecycle.transition`` is the only writer of
the state, and refuses any other move.
"""
from __future__ import annotations

from enum import StrEnum


class ExecutionState(StrEnum):
    # in the order the API lists them (GET /api/v1/info "states", which the UI shows)
    SCHEDULED = "scheduled"
    RUNNING = "running"
    STOPPING = "stopping"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    TIMEOUT = "timeout"
    STOPPED = "stopped"
    SCHEDULED_ERROR = "scheduled error"

    @property
    def active(self) -> bool:
        return self in ACTIVE

    @property
    def final(self) -> bool:
        return self not in ACTIVE

    def may_become(self, other: "ExecutionState") -> bool:
        return ExecutionState(other) in TRANSITIONS[self]


S = ExecutionState
TRANSITIONS: dict[ExecutionState, frozenset[ExecutionState]] = {
    S.SCHEDULED: frozenset({S.RUNNING, S.STOPPED, S.FAILED, S.SCHEDULED_ERROR}),
    S.RUNNING: frozenset({S.STOPPING, S.SUCCEEDED, S.FAILED, S.TIMEOUT, S.STOPPED}),
    # a run asked to stop may still end on its own before it notices
    S.STOPPING: frozenset({S.STOPPED, S.SUCCEEDED, S.FAILED, S.TIMEOUT}),
    S.STOPPED: frozenset(),
    S.FAILED: frozenset(),
    S.SUCCEEDED: frozenset(),
    S.TIMEOUT: frozenset(),
    S.SCHEDULED_ERROR: frozenset(),
}
INITIAL = frozenset({S.SCHEDULED, S.RUNNING, S.SCHEDULED_ERROR})
ACTIVE = frozenset({S.SCHEDULED, S.RUNNING, S.STOPPING})
ORDER = tuple(ExecutionState)
NAMES = tuple(state.value for state in ORDER)
ACTIVE_NAMES = tuple(state.value for state in ORDER if state in ACTIVE)


def predecessors(target: ExecutionState) -> tuple[str, ...]:
    """The states from which an execution may move to ``target``."""
    return tuple(state.value for state in ORDER if target in TRANSITIONS[state])
