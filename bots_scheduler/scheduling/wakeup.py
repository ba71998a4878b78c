"""The writes of one wake-up of APScheduler's thread, made in one transaction at its end.

On each wake-up APScheduler reads the due jobs from the job store, hands each to the executor
and writes the job's next run time back, then asks the store for the next run time of all.
Written as they came, each firing cost two transactions (its execution, and the job's next run
time): at 250 firings a second that was 500 transactions, each waiting for SQLite's single
writer, and the last job due in a second was recorded up to a second late.  So from the due
jobs (``begin``, called by the job store) to the question for the next run time (``end``), the
executor hands its firings here (``fire``) and the job store its updates (``defer``), and
``end`` writes them all at once: the executions and firings rows in two bulk INSERTs
(ExecutionStore.record_firings), then the jobs' rows; only then are the runs dispatched.

All or nothing: if that transaction fails (the database is unreachable), no firing is recorded
and no next run time moves on, so the same jobs are due again at the next wake-up (within their
misfire grace time).  If another scheduler recorded one of the firings meanwhile (the lease
changed hands), the firings are recorded one by one instead, each at most once.  Only the thread
that began a wake-up defers its writes: the API's changes, made by other threads, are written at
once as before.
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from bots_scheduler.executions.lifecycle import Lifecycle, new_execution_id
from bots_scheduler.executions.store import ExecutionStore

log = logging.getLogger(__name__)

Pending = list[tuple[str, datetime | None]]


@dataclass
class _Firing:
    job_id: str
    name: str
    run_times: list[datetime]
    view: dict
    then: Callable[[Pending], None]       # dispatch the recorded executions
    eids: list[str] = field(default_factory=list)


@dataclass
class _Open:
    firings: list[_Firing] = field(default_factory=list)
    # (write(conn), after()) of the job store: after() runs once the transaction committed
    writes: list[tuple[Callable, Callable[[], None]]] = field(default_factory=list)


class Wakeup:
    """``may_fire()``: whether this scheduler still leads (checked before writing)."""

    def __init__(self, store: ExecutionStore, lifecycle: Lifecycle,
                 may_fire: Callable[[], bool]):
        self.store = store
        self.lifecycle = lifecycle
        self.may_fire = may_fire
        self._local = threading.local()

    def in_progress(self) -> bool:
        return getattr(self._local, "open", None) is not None

    def begin(self) -> None:
        """Due jobs were read (by this thread): defer their writes until ``end``."""
        if self.in_progress():      # the previous wake-up ended in an error: write it now
            self.end()
        self._local.open = _Open()

    def fire(self, job_id: str, name: str, run_times: list[datetime], view: dict,
             then: Callable[[Pending], None]) -> None:
        """Record the executions of ``run_times`` at the end; ``then(pending)`` is called
        with those written, [(execution id, run time)] (possibly none), after the commit."""
        self._local.open.firings.append(_Firing(job_id, name, list(run_times), view, then))

    def defer(self, write: Callable, after: Callable[[], None] = lambda: None) -> None:
        """``write(conn)`` within the wake-up's transaction; ``after()`` once committed."""
        self._local.open.writes.append((write, after))

    def end(self) -> None:
        """Write what the wake-up deferred, in one transaction, then dispatch its runs."""
        batch: _Open | None = getattr(self._local, "open", None)
        self._local.open = None
        if batch is None or not (batch.firings or batch.writes):
            return
        firings = batch.firings
        if firings and not self.may_fire():
            for firing in firings:
                log.warning('job "%s" not fired: this scheduler is no longer the leader',
                            firing.name)
            firings = []
        dropped = batch.firings if not firings else []
        for firing in firings:
            firing.eids = [new_execution_id() for _time in firing.run_times]
        rows = [(f.job_id, run_time, eid, f.view)
                for f in firings for run_time, eid in zip(f.run_times, f.eids, strict=True)]
        written = True
        try:
            with self.store.transaction() as conn:
                recorded = self.store.record_firings(conn, rows, self.lifecycle.hostname,
                                                     self.lifecycle.pid)
                for write, _after in batch.writes:
                    write(conn)
        except IntegrityError:
            # another scheduler recorded one of these firings meanwhile: one at a time, then
            # the next run times
            recorded = self._one_by_one(rows)
            written = self._write_alone(batch.writes)
        except Exception as exc:
            # never raised on: APScheduler calls end() (through the job store) outside its
            # error handling, and an exception there would end its thread for good
            if isinstance(exc, SQLAlchemyError):
                log.warning("%d firing(s) not recorded, to be fired again at the next "
                            "wake-up: %s", len(rows), _first_line(exc))
            else:
                log.exception("%d firing(s) not recorded", len(rows))
            for firing in batch.firings:
                _dispatch(firing, [])
            return
        if written:
            for _write, after in batch.writes:
                after()
        for firing in firings:
            pending = [(eid, run_time)
                       for run_time, eid in zip(firing.run_times, firing.eids, strict=True)
                       if eid in recorded]
            if len(pending) < len(firing.eids):
                log.info('job "%s": %d firing(s) already recorded (another scheduler, or '
                         'before a restart); not fired again', firing.name,
                         len(firing.eids) - len(pending))
            _dispatch(firing, pending)
        for firing in dropped:
            _dispatch(firing, [])

    def _one_by_one(self, rows) -> frozenset[str]:
        recorded: set[str] = set()
        for job_id, run_time, eid, view in rows:
            try:
                if self.store.record_firing(job_id, run_time, eid, view,
                                            self.lifecycle.hostname, self.lifecycle.pid):
                    recorded.add(eid)
            except SQLAlchemyError as exc:
                log.warning("firing of job %s due at %s not recorded, to be fired again at the "
                            "next wake-up: %s", job_id, run_time.isoformat(), _first_line(exc))
        return frozenset(recorded)

    def _write_alone(self, writes) -> bool:
        try:
            with self.store.transaction() as conn:
                for write, _after in writes:
                    write(conn)
        except SQLAlchemyError as exc:
            # the recorded firings are not fired twice: the firings table remembers them
            log.warning("next run times of %d job(s) not written: %s", len(writes),
                        _first_line(exc))
            return False
        return True


def _dispatch(firing: _Firing, pending: Pending) -> None:
    try:
        firing.then(pending)
    except Exception:   # a run that cannot be queued is the executor's to record; go on
        log.exception('job "%s": its recorded run(s) could not be dispatched', firing.name)


def _first_line(exc: BaseException) -> str:
    lines = str(exc).splitlines()
    return lines[0] if lines else type(exc).__name__
