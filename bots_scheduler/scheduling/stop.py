"""Stopping one execution on request (``DELETE /api/v1/executions/{id}``).

A running execution turns ``stopping`` at once and ``stopped`` when its run has ended: the runner
of this process is told directly, a runner elsewhere sees ``stopping`` in the datastore within a
second or two.  A queued one (run now, or a retry waiting for its delay) is ``stopped`` at once
and never starts.  Every accepted request leaves a ``stopped`` entry in the audit log.
"""
from __future__ import annotations

from bots_scheduler.errors import Conflict, NotFound


class ExecutionNotFound(NotFound):
    def __init__(self, execution_id: str):
        super().__init__(f"no execution with id {execution_id!r}")
        self.execution_id = execution_id


class NotStoppable(Conflict):
    """The execution has already ended."""


def stop_execution(app, execution_id: str, user: str) -> dict:
    execution = app.datastore.get_execution(execution_id)
    if execution is None or \
            execution["job"].get("job_class_string") in app.registry.disabled_names():
        raise ExecutionNotFound(execution_id)
    previous = app.datastore.mark_stopping(execution_id)
    if previous == "stopping":
        return {"execution_id": execution_id, "state": "stopping"}
    if previous == "running":
        app.runner.request_stop(execution_id)
        state = "stopping"
    elif previous == "scheduled":
        app.scheduler.cancel_queued(execution_id)
        state = "stopped"
    else:
        raise NotStoppable(f"execution {execution_id} has already ended ({previous})")
    job = execution["job"]
    app.datastore.add_log(job.get("job_id", execution["job_id"]), job.get("name", ""), "stopped",
                          user, f"execution {execution_id} ({previous} when asked to stop)",
                          job.get("job_class_string", ""))
    return {"execution_id": execution_id, "state": state}
