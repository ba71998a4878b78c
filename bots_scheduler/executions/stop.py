"""Stopping one execution on request (``DELETE /api/v1/executions/{id}``).

A running execution turns ``stopping`` at once and ``stopped`` when its run has ended: the runner
of this process is told directly, a runner elsewhere sees ``stopping`` in the datastore within a
second or two.  A queued one (run now, or a retry waiting for its delay) is ``stopped`` at once
and never starts.  Every accepted request leaves a ``stopped`` entry in the audit log.
"""
from __future__ import annotations

from collections.abc import Callable, Collection

from bots_scheduler.errors import Conflict, NotFound
from bots_scheduler.executions.lifecycle import Lifecycle
from bots_scheduler.executions.states import ExecutionState
from bots_scheduler.executions.store import ExecutionStore


class ExecutionNotFound(NotFound):
    def __init__(self, execution_id: str):
        super().__init__(f"no execution with id {execution_id!r}")
        self.execution_id = execution_id


class NotStoppable(Conflict):
    """The execution has already ended."""


class StopRequests:
    """``hidden_classes()``: job classes whose executions are hidden (disabled);
    ``tell_runner(eid)``: ask this process's runner to stop a run; ``cancel_queued(eid)``:
    drop a queued run that has not started."""

    def __init__(self, store: ExecutionStore, lifecycle: Lifecycle,
                 hidden_classes: Callable[[], Collection[str]], tell_runner: Callable[[str], bool],
                 cancel_queued: Callable[[str], None]):
        self.store = store
        self.lifecycle = lifecycle
        self.hidden_classes = hidden_classes
        self.tell_runner = tell_runner
        self.cancel_queued = cancel_queued

    def stop(self, execution_id: str, user: str) -> dict:
        execution = self.store.get(execution_id)
        if execution is None or \
                execution["job"].get("job_class_string") in self.hidden_classes():
            raise ExecutionNotFound(execution_id)
        previous = self.lifecycle.request_stop(execution_id)
        if previous == ExecutionState.STOPPING:
            return {"execution_id": execution_id, "state": "stopping"}
        if previous == ExecutionState.RUNNING:
            self.tell_runner(execution_id)
            state = "stopping"
        elif previous == ExecutionState.SCHEDULED:
            self.cancel_queued(execution_id)
            state = "stopped"
        else:
            raise NotStoppable(f"execution {execution_id} has already ended ({previous})")
        job = execution["job"]
        self.store.add_log(job.get("job_id", execution["job_id"]), job.get("name", ""),
                           "stopped", user,
                           f"execution {execution_id} ({previous} when asked to stop)",
                           job.get("job_class_string", ""))
        return {"execution_id": execution_id, "state": state}
