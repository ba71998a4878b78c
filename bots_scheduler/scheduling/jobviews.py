"""The API views of the stored jobs, kept between calls.

Listing jobs through APScheduler unpickles every stored job on every call: seconds at 10,000
jobs. A job's stored state changes only when it is modified or fires, so a view is rebuilt only
when its stored bytes differ from the ones it was built from. Comparing stored bytes (not
listening to this process's events) also sees changes made by other instances of a cluster.
"""
from __future__ import annotations

import logging
import pickle
import threading

from apscheduler.job import Job
from sqlalchemy import Column, Float, LargeBinary, MetaData, Table, Unicode, select

from bots_scheduler.scheduling import jobspec

log = logging.getLogger(__name__)


class JobViews:
    def __init__(self, engine, tablename: str, secret_positions=lambda _class_string: ()):
        self.engine = engine
        # job class string -> positions of its secret-typed arguments (shown masked)
        self.secret_positions = secret_positions
        # the columns of APScheduler's SQLAlchemyJobStore table that are read here
        self.table = Table(tablename, MetaData(),
                           Column("id", Unicode(191), primary_key=True),
                           Column("next_run_time", Float(25)),
                           Column("job_state", LargeBinary))
        self._cache: dict[str, tuple[bytes, dict]] = {}
        self._lock = threading.Lock()

    def all(self) -> list[dict]:
        """Every stored job's view, soonest next run first, paused jobs last.

        The views are shared with the cache (copying 10,000 of them was a fifth of a job list
        call), so they are read-only: changing one (or its ``pub_args``) raises TypeError;
        ``dict(view)`` makes a copy that can be changed."""
        table = self.table
        with self.engine.connect() as conn:
            rows = conn.execute(select(table.c.id, table.c.next_run_time, table.c.job_state)).all()
        rows.sort(key=lambda row: (row[1] is None, row[1] or 0.0, row[0]))
        with self._lock:
            known = self._cache
        fresh, views = {}, []
        for job_id, _next_run, state in rows:
            cached = known.get(job_id)
            if cached is not None and cached[0] == state:
                view = cached[1]
            else:
                view = _view(job_id, state, self.secret_positions)
                if view is None:
                    continue
            fresh[job_id] = (state, view)
            views.append(view)
        with self._lock:
            self._cache = fresh
        return views


def _view(job_id: str, state: bytes, secret_positions) -> dict | None:
    try:
        job = Job.__new__(Job)
        job.__setstate__(pickle.loads(state))
        view = jobspec.job_view(job, secret_positions(job.args[0]))
        return ReadOnlyDict(view, pub_args=ReadOnlyList(view["pub_args"]))
    except Exception:
        # what APScheduler does with a job it cannot restore: log it and leave it out
        log.exception("job %s: its stored state cannot be read; not listed", job_id)
        return None


def _refuse(self, *args, **kwargs):
    raise TypeError("a listed job view is shared with the cache and read-only; "
                    "change a copy of it: dict(view)")


class ReadOnlyDict(dict):
    """A dict that refuses changes; JSON encoders and ``dict(view)`` read it as a dict."""
    __setitem__ = __delitem__ = __ior__ = clear = pop = popitem = setdefault = update = _refuse


class ReadOnlyList(list):
    """A list that refuses changes (a view's ``pub_args``)."""
    __setitem__ = __delitem__ = __iadd__ = __imul__ = _refuse
    append = extend = insert = pop = remove = clear = sort = reverse = _refuse
