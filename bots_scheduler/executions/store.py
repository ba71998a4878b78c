"""Every SQL statement on executions, firings and audit-log rows.

The tables are declared in datastore/tables.py (executions, audit log) and cluster/tables.py
(firings, named after the jobs table); this store is the only code that reads or writes them.
The state column is written only through ``move`` (a conditional UPDATE: the row moves only
from the states the caller names), which ``Lifecycle.transition`` calls.  Times are stored as
naive UTC.
"""
from __future__ import annotations

import json
import logging
from datetime import datetime

from sqlalchemy import and_, bindparam, delete, false, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from bots_scheduler.datastore.store import retry_when_unreachable, to_iso, to_naive_utc, utcnow
from bots_scheduler.datastore.tables import Tables
from bots_scheduler.executions.states import ACTIVE_NAMES, ExecutionState
from bots_scheduler.jsontext import RawJSON

log = logging.getLogger(__name__)

LOG_EVENTS = ("added", "modified", "deleted", "paused", "resumed", "custom_run", "file added",
              "file deleted", "stopped")
_CHUNK = 500        # values per IN list
_TIME_COLUMNS = ("started_time", "finished_time", "scheduled_time", "updated_time")


class ExecutionStore:
    def __init__(self, engine, tables: Tables, firings=None):
        self.engine = engine
        self.tables = tables
        self.executions = tables.executions
        self.logs = tables.logs
        self.firings = firings          # None: no cluster tables (a store for one query)
        self._sql = _Statements(tables, firings)

    def transaction(self):
        """``with store.transaction() as conn``: several writes (``conn=conn``) at once."""
        return self.engine.begin()

    def _write(self, statement, values: dict, conn=None):
        if conn is not None:
            return conn.execute(statement, values)
        with self.engine.begin() as conn:
            return conn.execute(statement, values)

    # -- executions: writes ------------------------------------------------------------------
    @retry_when_unreachable
    def insert(self, eid: str, job: dict, state: ExecutionState, scheduled_time: datetime,
               description: str = "", hostname: str = "", pid: int = 0,
               task_id: str | None = None, attempt: int = 1, first_eid: str | None = None,
               conn=None, **columns) -> None:
        """A new execution row; ``conn``: within the caller's transaction (no retry then)."""
        values = dict(
            eid=eid, job_id=job["job_id"], job_class_string=job.get("job_class_string", ""),
            job=json.dumps(job), state=ExecutionState(state).value, hostname=hostname, pid=pid,
            scheduled_time=to_naive_utc(scheduled_time), updated_time=utcnow(),
            description=description, task_id=task_id, attempt=attempt, first_eid=first_eid,
            **_naive(columns))
        self._write(self._sql.insert_execution, values, conn)

    @retry_when_unreachable
    def move(self, eid: str, to: ExecutionState, from_states, owner=None, **columns) -> bool:
        """Set the state to ``to`` (and ``columns``) if the row is in one of ``from_states``
        -- and, with ``owner`` = (hostname, pid), still belongs to that process."""
        values = _naive(columns)
        values.setdefault("updated_time", utcnow())
        values["state"] = ExecutionState(to).value
        self._check_columns(values)
        if owner is None:
            result = self._write(self._sql.move_from(from_states), {**values, "_eid": eid})
        else:
            table = self.executions
            hostname, pid = owner
            with self.engine.begin() as conn:
                result = conn.execute(update(table).where(
                    table.c.eid == eid, table.c.state.in_(list(from_states)),
                    table.c.hostname.is_not_distinct_from(hostname),
                    table.c.pid.is_not_distinct_from(pid)).values(**values))
        return result.rowcount == 1

    @retry_when_unreachable
    def set(self, eid: str, **columns) -> None:
        """Columns other than the state (task id, notification outcomes)."""
        if "state" in columns:
            raise TypeError("the state changes only through Lifecycle.transition")
        values = _naive(columns)
        values.setdefault("updated_time", utcnow())
        self._check_columns(values)
        self._write(self._sql.update_execution, {**values, "_eid": eid})

    def _check_columns(self, values: dict) -> None:
        unknown = values.keys() - self._sql.execution_columns
        if unknown:     # the prepared UPDATE would leave them out without a word
            raise TypeError(f"no such execution column: {', '.join(sorted(unknown))}")

    # -- executions: reads -------------------------------------------------------------------
    def get(self, eid: str) -> dict | None:
        table = self.executions
        columns = [table.c[name] for name in (*EXECUTION_COLUMNS, "result")]
        with self.engine.connect() as conn:
            row = conn.execute(select(*columns).where(table.c.eid == eid)).first()
        return execution_dict(row, with_result=True) if row else None

    def state_of(self, eid: str) -> str | None:
        table = self.executions
        with self.engine.connect() as conn:
            return conn.execute(select(table.c.state).where(table.c.eid == eid)).scalar()

    def list_executions(self, start: datetime, end: datetime, limit: int, offset: int = 0,
             hidden_classes=(), job_id: str | None = None, state: str | None = None,
             with_result: bool = True) -> tuple[list[dict], int]:
        """A page of executions, newest first; ``with_result``: with their reports.  The items
        are for ``jsontext.dumps`` (execution_dict with ``raw``)."""
        table = self.executions
        names = (*EXECUTION_COLUMNS, "result") if with_result else EXECUTION_COLUMNS
        where = [table.c.scheduled_time >= to_naive_utc(start),
                 table.c.scheduled_time <= to_naive_utc(end)]
        if hidden_classes:
            where.append(table.c.job_class_string.not_in(list(hidden_classes)))
        if job_id:
            where.append(table.c.job_id == job_id)
        if state:
            where.append(table.c.state == state)
        condition = and_(*where)
        with self.engine.connect() as conn:
            rows = conn.execute(select(*(table.c[name] for name in names))
                                .where(condition)
                                .order_by(table.c.scheduled_time.desc(), table.c.eid)
                                .limit(limit).offset(offset)).all()
            total = _total(conn, table, condition, rows, limit, offset)
        return [execution_dict(row, with_result, raw=True) for row in rows], total

    def stats(self, start: datetime, end: datetime, hidden_classes=()) -> dict:
        table = self.executions
        where = [table.c.scheduled_time >= to_naive_utc(start),
                 table.c.scheduled_time <= to_naive_utc(end)]
        if hidden_classes:
            where.append(table.c.job_class_string.not_in(list(hidden_classes)))
        day = func.date(table.c.scheduled_time)
        with self.engine.connect() as conn:
            per_day = conn.execute(select(day, table.c.state, func.count()).where(and_(*where))
                                   .group_by(day, table.c.state).order_by(day)).all()
        by_state: dict[str, int] = {}
        for _day, state, count in per_day:   # one scan of the table instead of two
            by_state[state] = by_state.get(state, 0) + int(count)
        return {"by_state": by_state,
                "per_day": [{"day": str(d), "state": s, "count": int(n)} for d, s, n in per_day]}

    def active_rows(self) -> list:
        """(eid, state, hostname, pid, task_id, scheduled_time) of every active execution."""
        table = self.executions
        with self.engine.connect() as conn:
            return conn.execute(select(table.c.eid, table.c.state, table.c.hostname,
                                       table.c.pid, table.c.task_id, table.c.scheduled_time)
                                .where(table.c.state.in_(ACTIVE_NAMES))).all()

    def active_count(self, job_id: str) -> int:
        """How many executions of the job are active (``--job-max-instances`` with Celery)."""
        table = self.executions
        with self.engine.connect() as conn:
            return conn.execute(select(func.count()).select_from(table).where(
                table.c.job_id == job_id, table.c.state.in_(ACTIVE_NAMES))).scalar() or 0

    def previous_data(self, job_id: str, before_eid: str):
        """The stored data of the job's latest succeeded execution before ``before_eid``."""
        table = self.executions
        with self.engine.connect() as conn:
            current = conn.execute(select(table.c.scheduled_time)
                                   .where(table.c.eid == before_eid)).scalar()
            query = (select(table.c.data)
                     .where(table.c.job_id == job_id,
                            table.c.state == ExecutionState.SUCCEEDED.value,
                            table.c.eid != before_eid))
            if current is not None:
                query = query.where(table.c.scheduled_time <= current)
            raw = conn.execute(query.order_by(table.c.scheduled_time.desc()).limit(1)).scalar()
        return json.loads(raw) if raw else None

    def earlier_final_states(self, job_id: str, before_eid: str, limit: int = 50) -> list[str]:
        """The final states of the job's runs before execution ``before_eid``, newest first:
        one per run (the state of its last attempt; retries are attempts of one run)."""
        table = self.executions
        with self.engine.connect() as conn:
            current = conn.execute(select(table.c.scheduled_time, table.c.first_eid)
                                   .where(table.c.eid == before_eid)).first()
            query = select(table.c.eid, table.c.first_eid, table.c.attempt, table.c.state) \
                .where(table.c.job_id == job_id, table.c.eid != before_eid)
            if current is not None:
                query = query.where(table.c.scheduled_time <= current[0])
            rows = conn.execute(query.order_by(table.c.scheduled_time.desc(),
                                               table.c.attempt.desc())
                                .limit(limit)).all()
        own_run = current[1] if current is not None and current[1] else before_eid
        states, seen = [], {own_run}
        for eid, first_eid, _attempt, state in rows:
            run = first_eid or eid
            if run in seen:
                continue         # an earlier attempt of a run already counted (or this run)
            seen.add(run)
            states.append(state)
        return states

    # -- firings -----------------------------------------------------------------------------
    def record_firing(self, job_id: str, run_time: datetime, eid: str, job: dict,
                      hostname: str, pid: int) -> bool:
        """The execution of one firing of a job, with its firings row (its key is the job and
        the time) in one transaction; False when the firing is already recorded."""
        try:
            with self.engine.begin() as conn:
                return bool(self.record_firings(conn, [(job_id, run_time, eid, job)],
                                                hostname, pid))
        except IntegrityError:      # recorded by another scheduler in between
            return False

    def record_firings(self, conn, firings: list[tuple[str, datetime, str, dict]],
                       hostname: str, pid: int) -> frozenset[str]:
        """The executions of several firings [(job id, run time, execution id, job view)]
        within the caller's transaction ``conn``, two bulk INSERTs; the firings already recorded
        (by another scheduler, or before a restart) are left out.  Returns the ids written.
        Raises IntegrityError when another scheduler records one of them meanwhile."""
        if not firings:
            return frozenset()
        table = self.firings
        times = {to_naive_utc(run_time) for _job_id, run_time, _eid, _view in firings}
        ids = sorted({job_id for job_id, _time, _eid, _view in firings})
        found = []
        for start in range(0, len(ids), _CHUNK):
            found += conn.execute(select(table.c.job_id, table.c.run_time).where(
                table.c.job_id.in_(ids[start:start + _CHUNK]),
                table.c.run_time.in_(sorted(times)))).all()
        known = {(job_id, run_time) for job_id, run_time in found}
        now = utcnow()
        rows, new = [], []
        for job_id, run_time, eid, view in firings:
            naive = to_naive_utc(run_time)
            if (job_id, naive) in known:
                continue
            known.add((job_id, naive))
            new.append({"job_id": job_id, "run_time": naive, "eid": eid, "created_time": now})
            rows.append(dict(
                eid=eid, job_id=job_id, job_class_string=view.get("job_class_string", ""),
                job=json.dumps(view), state=ExecutionState.SCHEDULED.value, hostname=hostname,
                pid=pid, scheduled_time=naive, updated_time=now, description="", task_id=None,
                attempt=1, first_eid=None))
        if new:
            conn.execute(self._sql.insert_firing, new)
            conn.execute(self._sql.insert_execution, rows)
        return frozenset(row["eid"] for row in rows)

    def forget_firings(self, before: datetime) -> int:
        """Delete firings rows older than ``before`` (housekeeping)."""
        with self.engine.begin() as conn:
            return conn.execute(delete(self.firings)
                                .where(self.firings.c.created_time < before)).rowcount

    # -- retention ---------------------------------------------------------------------------
    def job_ids_before(self, cutoff: datetime) -> list[str]:
        table = self.executions
        with self.engine.connect() as conn:
            return list(conn.execute(select(table.c.job_id).distinct()
                                     .where(table.c.scheduled_time < cutoff)).scalars())

    def prune_executions(self, job_id: str, cutoff: datetime, keep_runs: int,
                         batch: int) -> list[str]:
        """Delete up to ``batch`` finished executions of the job older than ``cutoff``, never
        its latest ``keep_runs``; returns their ids."""
        table = self.executions
        with self.engine.begin() as conn:
            kept = list(conn.execute(select(table.c.eid).where(table.c.job_id == job_id)
                                     .order_by(table.c.scheduled_time.desc())
                                     .limit(keep_runs)).scalars()) if keep_runs else []
            eids = list(conn.execute(
                select(table.c.eid)
                .where(table.c.job_id == job_id, table.c.scheduled_time < cutoff,
                       table.c.state.not_in(ACTIVE_NAMES), table.c.eid.not_in(kept))
                .order_by(table.c.scheduled_time).limit(batch)).scalars())
            if eids:
                conn.execute(delete(table).where(table.c.eid.in_(eids)))
        return eids

    def prune_logs(self, cutoff: datetime, batch: int) -> int:
        """Delete up to ``batch`` audit entries older than ``cutoff``; returns how many."""
        table = self.logs
        with self.engine.begin() as conn:
            ids = list(conn.execute(select(table.c.id).where(table.c.created_time < cutoff)
                                    .order_by(table.c.id).limit(batch)).scalars())
            if ids:
                conn.execute(delete(table).where(table.c.id.in_(ids)))
        return len(ids)

    # -- rows copied from another datastore (bots-scheduler migrate) ---------------------------
    def existing_ids(self, eids: list[str]) -> frozenset[str]:
        """Which of ``eids`` are stored already."""
        table = self.executions
        found: list[str] = []
        with self.engine.connect() as conn:
            for start in range(0, len(eids), _CHUNK):
                found += conn.execute(select(table.c.eid).where(
                    table.c.eid.in_(eids[start:start + _CHUNK]))).scalars()
        return frozenset(found)

    def log_facts(self, start: datetime, end: datetime) -> list[tuple]:
        """(job id, event, created time, user, description) of the audit entries written
        between ``start`` and ``end`` (naive UTC)."""
        table = self.logs
        with self.engine.connect() as conn:
            return [tuple(row) for row in conn.execute(
                select(table.c.job_id, table.c.event, table.c.created_time, table.c.user,
                       table.c.description)
                .where(table.c.created_time >= start, table.c.created_time <= end))]

    def copy_executions(self, rows: list[dict]) -> None:
        """Insert executions as they were elsewhere (their ids and times), in one transaction."""
        if rows:
            with self.engine.begin() as conn:
                conn.execute(insert(self.executions), rows)

    def copy_logs(self, rows: list[dict]) -> None:
        """Insert audit entries as they were elsewhere (their times), in one transaction."""
        if rows:
            with self.engine.begin() as conn:
                conn.execute(insert(self.logs), rows)

    # -- audit log ---------------------------------------------------------------------------
    def add_log(self, job_id: str, job_name: str, event: str, user: str,
                description: str = "", job_class_string: str = "", conn=None) -> None:
        """``conn``: insert within the caller's transaction."""
        values = dict(job_id=job_id or "", job_name=job_name or "", event=event, user=user or "",
                      created_time=utcnow(), description=description,
                      job_class_string=job_class_string or "")
        self._write(self._sql.insert_log, values, conn)

    def list_logs(self, start: datetime, end: datetime, limit: int, offset: int = 0,
                  hidden_classes=(), job_id: str | None = None, user: str | None = None,
                  event: str | None = None, job: str | None = None) -> tuple[list[dict], int]:
        """``user`` and ``job`` (a job's name or id) match case-insensitively, in part.

        Entries of jobs whose class is in ``hidden_classes`` are left out; entries written
        before the class was stored (NULL) are shown."""
        table = self.logs
        where = [table.c.created_time >= to_naive_utc(start),
                 table.c.created_time <= to_naive_utc(end)]
        if hidden_classes:
            where.append(or_(table.c.job_class_string.is_(None),
                             table.c.job_class_string.not_in(list(hidden_classes))))
        if job_id:
            where.append(table.c.job_id == job_id)
        if user:
            where.append(func.lower(table.c.user).contains(user.lower(), autoescape=True))
        if event:
            where.append(table.c.event == event)
        if job:
            where.append(or_(table.c.job_id == job,
                             func.lower(table.c.job_name).contains(job.lower(), autoescape=True)))
        condition = and_(*where)
        with self.engine.connect() as conn:
            rows = conn.execute(select(*(table.c[name] for name in LOG_COLUMNS))
                                .where(condition)
                                .order_by(table.c.created_time.desc(), table.c.id.desc())
                                .limit(limit).offset(offset)).all()
            total = _total(conn, table, condition, rows, limit, offset)
        return [log_dict(row) for row in rows], total


def _naive(columns: dict) -> dict:
    """Times as naive UTC (how they are stored)."""
    return {key: to_naive_utc(value) if key in _TIME_COLUMNS and isinstance(value, datetime)
            else value for key, value in columns.items()}


class _Statements:
    """The writes of every run and every API change, built once and executed with their values
    as parameters: building ``insert(...).values(...)`` anew for each call cost SQLAlchemy more
    time than SQLite took to write the row (a run-now's three transactions: 1.2 -> 0.4 ms)."""

    def __init__(self, tables: Tables, firings=None):
        executions = tables.executions
        self.execution_columns = frozenset(executions.c.keys())
        self.insert_execution = insert(executions)
        self.insert_log = insert(tables.logs)
        # the columns to set are the parameters' keys; "_eid" names the row
        self.update_execution = update(executions).where(executions.c.eid == bindparam("_eid"))
        self._executions = executions
        self._moves: dict[tuple, object] = {}
        self.insert_firing = insert(firings) if firings is not None else None

    def move_from(self, from_states) -> object:
        """The UPDATE of one execution in one of ``from_states``: one statement per set of
        states, each compiled once (an expanding ``IN`` parameter is rendered anew for every
        execution, a tenth of a millisecond on each of a run's two moves)."""
        key = tuple(sorted(ExecutionState(state).value for state in from_states))
        statement = self._moves.get(key)
        if statement is None:
            table = self._executions
            # no state to move from: moves nothing (an empty or_() would move any row)
            states = or_(*(table.c.state == state for state in key)) if key else false()
            statement = self._moves[key] = update(table).where(
                table.c.eid == bindparam("_eid"), states)
        return statement


def _total(conn, table, condition, rows, limit: int, offset: int) -> int:
    """How many rows match: a first page that is not full holds them all (no COUNT then)."""
    if offset == 0 and len(rows) < limit:
        return len(rows)
    return int(conn.execute(select(func.count()).select_from(table).where(condition)).scalar()
               or 0)


# the columns read for the API, in the order execution_dict and log_dict unpack them (rows are
# read as tuples: SQLAlchemy's mapping view of 1,300 rows cost as much as reading them)
EXECUTION_COLUMNS = ("eid", "job_id", "job", "state", "hostname", "pid", "scheduled_time",
                     "started_time", "finished_time", "updated_time", "description", "task_id",
                     "notifications", "attempt", "first_eid", "alerts")
LOG_COLUMNS = ("id", "job_id", "job_name", "event", "user", "created_time", "description")


def execution_dict(row, with_result: bool = False, raw: bool = False) -> dict:
    """The API's view of an execution row (EXECUTION_COLUMNS, then ``result`` if
    ``with_result``).  ``raw``: for an answer written by ``jsontext.dumps`` only, which writes
    the stored job and notifications (JSON text written by this program, as ``RawJSON``) without
    parsing them and the times (datetimes) in C: a third of a list call's time."""
    (eid, job_id, stored_job, state, hostname, pid, scheduled, started, finished, updated,
     description, task_id, notifications, attempt, first_eid, alerts) = row[:16]
    if raw:
        job = RawJSON(stored_job) if stored_job else {"job_id": job_id}
        notifications = RawJSON(notifications) if notifications else []
        alerts = RawJSON(alerts) if alerts else []
        started, finished, updated = started or "", finished or "", updated or ""
    else:
        job = json.loads(stored_job) if stored_job else {"job_id": job_id}
        notifications = json.loads(notifications) if notifications else []
        alerts = json.loads(alerts) if alerts else []
        scheduled, started, finished, updated = (to_iso(scheduled), to_iso(started),
                                                 to_iso(finished), to_iso(updated))
    out = {
        "execution_id": eid,
        "job": job,
        "job_id": job_id,
        "state": state,
        "hostname": hostname or "",
        "pid": pid or 0,
        "scheduled_time": scheduled,
        "started_time": started,
        "finished_time": finished,
        "updated_time": updated,
        "description": description or "",
        "task_id": task_id or "",
        "notifications": notifications,
        "attempt": attempt or 1,
        "first_execution_id": first_eid or eid,
        "alerts": alerts,
    }
    if with_result:
        out["result"] = row[16] or ""
    return out


def log_dict(row) -> dict:
    """The API's view of an audit-log row (LOG_COLUMNS), for ``jsontext.dumps`` (which prints
    ``created_time``, a datetime)."""
    entry_id, job_id, job_name, event, user, created, description = row
    return {"id": entry_id, "job_id": job_id, "job_name": job_name, "event": event,
            "user": user, "created_time": created, "description": description or ""}
