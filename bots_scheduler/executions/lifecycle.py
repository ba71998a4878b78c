"""The one owner of an execution's life: creating its row and moving its state.

Every change of an execution's state goes through ``Lifecycle.transition``: the runner (claim,
end of a run), the executors (a missed or unqueued run), the reaper (orphans), a stop request
and the server's shutdown.  A move that states.py does not allow is a bug and raises; a move
the row no longer allows (someone else moved it first: a stop, the reaper, another worker) is
refused by the database and returns False.
"""
from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterable
from datetime import datetime, timezone

from bots_scheduler.executions.outcome import DESCRIPTION_LIMIT, Outcome
from bots_scheduler.executions.states import INITIAL, ExecutionState, predecessors
from bots_scheduler.executions.store import ExecutionStore
from bots_scheduler.jobs.report import Renderer, data_to_json

log = logging.getLogger(__name__)

S = ExecutionState
EMPTY_DATA: tuple = (None, "", [], {})


def new_execution_id() -> str:
    return uuid.uuid4().hex


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


class Lifecycle:
    """``hostname``/``pid`` name this process in the rows it creates and claims."""

    def __init__(self, store: ExecutionStore, hostname: str, pid: int,
                 renderer: Renderer | None = None, clock: Callable[[], datetime] = utc_now):
        self.store = store
        self.hostname = hostname
        self.pid = pid
        self.renderer = renderer or Renderer()
        self.clock = clock

    # -- creation ----------------------------------------------------------------------------
    def create(self, job: dict, state: ExecutionState = S.SCHEDULED, description: str = "",
               scheduled_time: datetime | None = None, attempt: int = 1,
               first_eid: str | None = None, eid: str | None = None, conn=None,
               **columns) -> str:
        """A new execution of ``job`` in one of the initial states; returns its id."""
        state = ExecutionState(state)
        if state not in INITIAL:
            raise ValueError(f"an execution cannot start as {state.value!r}")
        eid = eid or new_execution_id()
        self.store.insert(eid, job, state, scheduled_time or self.clock(),
                          description=description, hostname=self.hostname, pid=self.pid,
                          attempt=attempt, first_eid=first_eid, conn=conn, **columns)
        return eid

    def record_firing(self, job_id: str, run_time: datetime, job: dict) -> str | None:
        """The ``scheduled`` execution of one firing; None when it was already recorded."""
        eid = new_execution_id()
        if self.store.record_firing(job_id, run_time, eid, job, self.hostname, self.pid):
            return eid
        return None

    # -- the one transition call -------------------------------------------------------------
    def transition(self, eid: str, to: ExecutionState, *, outcome: Outcome | None = None,
                   expect: Iterable[ExecutionState] | None = None,
                   renderer: Renderer | None = None, owner: tuple | None = None,
                   **columns) -> bool:
        """Move execution ``eid`` to state ``to``; True when it moved.

        ``expect``: the states it may be in now (default: every state that may become ``to``).
        ``outcome``: how the run ended -- its report is rendered here (with ``renderer``, for
        the run's redactions), its reason and data stored with it.  ``owner`` =
        (hostname, pid): move only if the row still belongs to that process (the reaper).
        A final state stamps ``finished_time``.
        """
        to = ExecutionState(to)
        allowed = predecessors(to)
        if expect is not None:
            wanted = tuple(ExecutionState(state).value for state in expect)
            wrong = [state for state in wanted if state not in allowed]
            if wrong:
                raise ValueError(f"an execution cannot move from {', '.join(wrong)} to "
                                 f"{to.value}")
            allowed = wanted
        if outcome is not None:
            columns["description"] = outcome.description[:DESCRIPTION_LIMIT]
            columns["result"] = (renderer or self.renderer).report(outcome.report)
            if outcome.data not in EMPTY_DATA:
                columns["data"] = data_to_json(outcome.data)
        elif "description" in columns:
            columns["description"] = (columns["description"] or "")[:DESCRIPTION_LIMIT]
        if to.final:
            columns.setdefault("finished_time", self.clock())
        moved = self.store.move(eid, to, allowed, owner=owner, **columns)
        if not moved:
            log.info("execution %s not moved to %s: it was no longer %s", eid, to.value,
                     " or ".join(allowed))
        return moved

    def end(self, eid: str, to: ExecutionState, title: str, message: str,
            expect: Iterable[ExecutionState] | None = None, owner: tuple | None = None) -> bool:
        """End an execution that has no report of its own: a one-section report saying why."""
        return self.transition(eid, to, outcome=Outcome.ended(to, title, message),
                               expect=expect, owner=owner)

    # -- the moves of a run ------------------------------------------------------------------
    def claim(self, eid: str, started: datetime) -> bool:
        """scheduled -> running, for this process only: False when the execution was stopped,
        failed, or started elsewhere meanwhile (a broker delivering a message twice)."""
        return self.transition(eid, S.RUNNING, expect=(S.SCHEDULED,), hostname=self.hostname,
                               pid=self.pid, started_time=started)

    def request_stop(self, eid: str) -> str | None:
        """A stop request: running -> stopping, scheduled -> stopped (it never starts).

        Returns the state the execution had (None: no such execution)."""
        for _attempt in range(3):       # the run may move on between the read and the write
            state = self.store.state_of(eid)
            if state == S.RUNNING:
                if self.transition(eid, S.STOPPING, expect=(S.RUNNING,)):
                    return state
            elif state == S.SCHEDULED:
                if self.end(eid, S.STOPPED, "Stopped", "stopped on request before it started",
                            expect=(S.SCHEDULED,)):
                    return state
            else:
                return state
        return self.store.state_of(eid)

    def stop_requested(self, eid: str) -> bool:
        """Whether someone (any process of the cluster) asked this run to stop."""
        return self.store.state_of(eid) == S.STOPPING

    def abandon(self, eids: Iterable[str], reason: str, to: ExecutionState = S.STOPPED) -> int:
        """End the given active executions (the server shuts down, or started after a crash);
        returns how many moved."""
        title = "Stopped" if to == S.STOPPED else "Interrupted"
        return sum(1 for eid in eids
                   if self.end(eid, to, title, reason,
                               expect=[s for s in (S.SCHEDULED, S.RUNNING, S.STOPPING)
                                       if s.may_become(to)]))

    # -- the post-run step that records the outcome ------------------------------------------
    def record(self, run) -> None:
        """The "record" post-run step: render the report once and store the final state."""
        renderer = run.renderer()
        outcome = run.outcome
        run.html = renderer.report(outcome.report)
        columns = {"result": run.html, "description": run.redact(outcome.description)}
        if outcome.data not in EMPTY_DATA:
            # the job's data is stored as JSON text: its secret values hidden like the report's
            columns["data"] = run.redact(data_to_json(outcome.data))
        if run.finished_time is not None:
            columns["finished_time"] = run.finished_time
        run.recorded = self.transition(run.execution_id, outcome.state, **columns)
