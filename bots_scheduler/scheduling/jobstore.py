"""The jobs table: APScheduler's SQLAlchemy job store, made to survive a database outage.

APScheduler 3 asks every job store for its next run time outside its error handling: one failed
query there ends the scheduler's thread for good.  Here a failure answers "try again shortly".

APScheduler also asks for the due jobs and the next run time on every wake-up, and it wakes up on
every job added, including each run-now (a burst of 300 meant 600 queries of this table for
nothing).  So the earliest next run time is remembered: a job added or updated through this
store can only bring it forward (kept exact with min()); a job removed, or moved later, leaves
it earlier than the truth, which costs one query, never a missed run.  What other instances of
a cluster change is seen once the remembered value is FRESH_FOR seconds old, before the
cluster's coordinator wakes the scheduler up again (every 2 s).
"""
from __future__ import annotations

import logging
import pickle
import threading
import time
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone

from apscheduler.jobstores.base import ConflictingIdError, JobLookupError
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.util import datetime_to_utc_timestamp
from sqlalchemy import bindparam, select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

log = logging.getLogger(__name__)

RETRY_AFTER = timedelta(seconds=5)
FRESH_FOR = 1.0     # seconds a next run time read from the table is trusted


class _Together(threading.local):
    write = None
    done = False


class ResilientJobStore(SQLAlchemyJobStore):
    def __init__(self, *args, fresh_for: float = FRESH_FOR, **kwargs):
        super().__init__(*args, **kwargs)
        # statements built once, their values given as parameters: SQLAlchemy building
        # ``insert().values(...)`` for every call cost more than the write itself
        table = self.jobs_t
        self._select_one = select(table.c.job_state).where(table.c.id == bindparam("_id"))
        self._insert = table.insert()
        self._update = table.update().where(table.c.id == bindparam("_id"))
        self._delete = table.delete().where(table.c.id == bindparam("_id"))
        self._together = _Together()
        self.fresh_for = fresh_for
        self._known_lock = threading.Lock()
        self._known = None          # (earliest next run time or None, monotonic time read)
        self._changes = 0           # jobs added or updated here (a read racing them is not kept)

    def get_due_jobs(self, now):
        known = self._fresh()
        if known is not None and (known[0] is None or now < known[0]):
            return []
        with self._known_lock:
            self._known = None      # jobs are due: they move on, read the next time again
        return super().get_due_jobs(now)

    def get_next_run_time(self):
        known = self._fresh()
        if known is not None:
            return known[0]
        with self._known_lock:
            changes, read_at = self._changes, time.monotonic()
        try:
            next_run_time = super().get_next_run_time()
        except SQLAlchemyError as exc:
            log.warning("cannot read the next run time from the jobs table (%s); retrying in "
                        "%ds", str(exc).splitlines()[0], RETRY_AFTER.total_seconds())
            return datetime.now(timezone.utc) + RETRY_AFTER
        with self._known_lock:
            if self._changes == changes:
                self._known = (next_run_time, read_at)
        return next_run_time

    @contextmanager
    def together(self, write):
        """Make ``write(conn, job)`` part of the transaction of the next job this thread adds,
        updates or removes through this store (``job`` is None for a removal): a change and
        its audit entry are written at once, or not at all.  ``.done`` on the yielded object
        tells whether that happened (APScheduler keeps a job added before it starts in memory,
        without writing it here)."""
        state = self._together
        state.write, state.done = write, False
        try:
            yield state
        finally:
            state.write = None

    def _join(self, conn, job) -> None:
        state = self._together
        write, state.write = state.write, None
        if write is not None:
            write(conn, job)
            state.done = True

    # what SQLAlchemyJobStore does (same columns, same pickled state), prepared statements
    def lookup_job(self, job_id):
        with self.engine.connect() as conn:
            job_state = conn.execute(self._select_one, {"_id": job_id}).scalar()
        return self._reconstitute_job(job_state) if job_state else None

    def add_job(self, job):
        values = {"id": job.id, "next_run_time": datetime_to_utc_timestamp(job.next_run_time),
                  "job_state": pickle.dumps(job.__getstate__(), self.pickle_protocol)}
        with self.engine.begin() as conn:
            try:
                conn.execute(self._insert, values)
            except IntegrityError:
                raise ConflictingIdError(job.id) from None
            self._join(conn, job)
        self._brought_forward(job.next_run_time)

    def _update_values(self, job) -> dict:
        return {"_id": job.id, "next_run_time": datetime_to_utc_timestamp(job.next_run_time),
                "job_state": pickle.dumps(job.__getstate__(), self.pickle_protocol)}

    def update_job(self, job):
        values = self._update_values(job)
        with self.engine.begin() as conn:
            if conn.execute(self._update, values).rowcount == 0:
                raise JobLookupError(job.id)
            self._join(conn, job)
        self._brought_forward(job.next_run_time)

    def remove_job(self, job_id):
        with self.engine.begin() as conn:
            if conn.execute(self._delete, {"_id": job_id}).rowcount == 0:
                raise JobLookupError(job_id)
            self._join(conn, None)

    def _fresh(self):
        with self._known_lock:
            known = self._known
        if known is None or time.monotonic() - known[1] >= self.fresh_for:
            return None
        return known

    def _brought_forward(self, next_run_time) -> None:
        with self._known_lock:
            self._changes += 1
            if self._known is not None and next_run_time is not None and (
                    self._known[0] is None or next_run_time < self._known[0]):
                self._known = (next_run_time, self._known[1])
