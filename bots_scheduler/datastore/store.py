"""The datastore: executions, audit log and data-file rows on SQLite, PostgreSQL or MySQL.

All queries go through SQLAlchemy Core.  Times are stored as naive UTC and returned as aware UTC
datetimes; ``to_iso`` prints them for the API.
"""
from __future__ import annotations

import functools
import json
import logging
import time
from datetime import datetime, timezone
from pathlib import Path

import sqlalchemy
from sqlalchemy import and_, bindparam, delete, event, func, insert, or_, select, update
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from bots_scheduler.private_files import private_sqlite
from bots_scheduler.datastore.migrate import add_missing_columns
from bots_scheduler.datastore.tables import Tables, make_tables
from bots_scheduler.errors import Unavailable, UsageError
from bots_scheduler.jsontext import RawJSON

log = logging.getLogger(__name__)

ACTIVE_STATES = ("scheduled", "running", "stopping")
STATES = ("scheduled", "running", "stopping", "stopped", "failed", "succeeded", "timeout",
          "scheduled error")
LOG_EVENTS = ("added", "modified", "deleted", "paused", "resumed", "custom_run", "file added",
              "file deleted", "stopped")


def retry_when_unreachable(method):
    """Retry a write a few times when the connection to the database failed, so that a short
    outage does not lose a run's state or report (the API answers 503 without waiting)."""
    delays = (0.5, 1, 2, 4, 8)

    @functools.wraps(method)
    def wrapper(*args, **kwargs):
        if kwargs.get("conn") is not None:     # part of the caller's transaction: no retry
            return method(*args, **kwargs)
        for delay in delays:
            try:
                return method(*args, **kwargs)
            except DBAPIError as exc:
                if not (isinstance(exc, sqlalchemy.exc.OperationalError)
                        or exc.connection_invalidated):
                    raise
                log.warning("datastore write failed (%s); retrying in %gs",
                            str(exc.orig).strip().splitlines()[0] if exc.orig else exc, delay)
                time.sleep(delay)
        return method(*args, **kwargs)
    return wrapper


class DatastoreUnavailable(Unavailable):
    """The database cannot be reached (start-up: exit 2; while running: HTTP 503)."""

    service = "datastore"


class ForeignDatastore(UsageError):
    """The configured tables are ndscheduler's, not ours: nothing starts (exit 2)."""


def utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def to_naive_utc(moment: datetime) -> datetime:
    if moment.tzinfo is not None:
        moment = moment.astimezone(timezone.utc).replace(tzinfo=None)
    return moment


def to_iso(moment: datetime | None) -> str:
    if moment is None:
        return ""
    if moment.tzinfo is None:   # stored naive UTC; same text as replace(tzinfo=utc), faster
        return moment.isoformat() + "+00:00"
    return moment.isoformat()


def make_engine(settings_db, pool_size: int = 10) -> sqlalchemy.Engine:
    url = settings_db.url
    if settings_db.dbms == "sqlite":
        path = Path(url.database)
        private_sqlite(path)     # 0600 before SQLite creates it: its WAL and -shm follow
        engine = sqlalchemy.create_engine(
            url, connect_args={"check_same_thread": False, "timeout": 30},
            pool_size=pool_size, max_overflow=pool_size)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record):
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()
        return engine
    connect_args = {"connect_timeout": 5}
    return sqlalchemy.create_engine(url, pool_pre_ping=True, pool_size=pool_size,
                                    max_overflow=pool_size, pool_recycle=3600,
                                    connect_args=connect_args)


class Datastore:
    def __init__(self, settings_db, pool_size: int = 10):
        self.settings = settings_db
        self.engine = make_engine(settings_db, pool_size)
        self.tables: Tables = make_tables(settings_db.executions_table, settings_db.logs_table,
                                          settings_db.files_table)
        self._sql = _Statements(self.tables)

    # -- life cycle --------------------------------------------------------------------------
    def check(self) -> None:
        """Raise DatastoreUnavailable unless the database answers."""
        try:
            with self.engine.connect() as conn:
                conn.execute(select(1))
        except (DBAPIError, SQLAlchemyError, OSError) as exc:
            reason = str(getattr(exc, "orig", exc) or exc).strip().splitlines()
            raise DatastoreUnavailable(f"cannot reach the {self.settings.dbms} datastore "
                                       f"{self.settings.describe()}: "
                                       f"{reason[0] if reason else type(exc).__name__}") from None

    def create_tables(self) -> None:
        self.refuse_ndscheduler_tables()
        self.tables.metadata.create_all(self.engine)
        add_missing_columns(self.engine, self.tables.metadata)

    def refuse_ndscheduler_tables(self) -> None:
        """ndscheduler names its tables as we do by default, with other columns: running on its
        datastore would fail at the first run, and APScheduler would drop every job whose
        pickled state it cannot restore.  Its executions table has integer states."""
        table = self.tables.executions.name
        inspector = sqlalchemy.inspect(self.engine)
        if not inspector.has_table(table):
            return
        columns = {column["name"]: column["type"] for column in inspector.get_columns(table)}
        if isinstance(columns.get("state"), sqlalchemy.Integer) \
                and "job_class_string" not in columns:
            raise ForeignDatastore(
                f"the {self.settings.dbms} datastore {self.settings.describe()} holds the tables "
                f"of ndscheduler or of the original Bots Scheduler ({table} has integer states): "
                f"configure another database or other table names, then copy it there with "
                f"`bots-scheduler migrate` (docs/migrating.md)")

    def dispose(self) -> None:
        self.engine.dispose()

    def _write(self, statement, values: dict, conn=None):
        """Execute a prepared write within the caller's transaction ``conn``, or in one of its
        own."""
        if conn is not None:
            return conn.execute(statement, values)
        with self.engine.begin() as conn:
            return conn.execute(statement, values)

    # -- executions --------------------------------------------------------------------------
    @retry_when_unreachable
    def add_execution(self, eid: str, job: dict, state: str, scheduled_time: datetime,
                      description: str = "", hostname: str = "", pid: int = 0,
                      task_id: str | None = None, attempt: int = 1,
                      first_eid: str | None = None, conn=None) -> None:
        """``conn``: insert within the caller's transaction (no retry then)."""
        now = utcnow()
        values = dict(
            eid=eid, job_id=job["job_id"], job_class_string=job.get("job_class_string", ""),
            job=json.dumps(job), state=state, hostname=hostname, pid=pid,
            scheduled_time=to_naive_utc(scheduled_time), updated_time=now,
            description=description, task_id=task_id, attempt=attempt,
            first_eid=first_eid)
        self._write(self._sql.insert_execution, values, conn)

    @retry_when_unreachable
    def update_execution(self, eid: str, **columns) -> None:
        columns.setdefault("updated_time", utcnow())
        for key in ("started_time", "finished_time", "scheduled_time", "updated_time"):
            if isinstance(columns.get(key), datetime):
                columns[key] = to_naive_utc(columns[key])
        unknown = columns.keys() - self._sql.execution_columns
        if unknown:     # the prepared UPDATE would leave them out without a word
            raise TypeError(f"no such execution column: {', '.join(sorted(unknown))}")
        self._write(self._sql.update_execution, {**columns, "_eid": eid})

    def get_execution(self, eid: str) -> dict | None:
        table = self.tables.executions
        columns = [table.c[name] for name in (*EXECUTION_COLUMNS, "result")]
        with self.engine.connect() as conn:
            row = conn.execute(select(*columns).where(table.c.eid == eid)).first()
        return execution_dict(row, with_result=True) if row else None

    def list_executions(self, start: datetime, end: datetime, limit: int, offset: int = 0,
                        hidden_classes=(), job_id: str | None = None,
                        state: str | None = None,
                        with_result: bool = True) -> tuple[list[dict], int]:
        """A page of executions, newest first; ``with_result``: with their reports.  The items
        are for ``jsontext.dumps`` (execution_dict with ``raw``)."""
        table = self.tables.executions
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

    def execution_stats(self, start: datetime, end: datetime, hidden_classes=()) -> dict:
        table = self.tables.executions
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

    def running_executions(self) -> list[str]:
        table = self.tables.executions
        with self.engine.connect() as conn:
            return list(conn.execute(select(table.c.eid)
                                     .where(table.c.state.in_(ACTIVE_STATES))).scalars())

    def fail_unfinished(self, reason: str, states=ACTIVE_STATES, new_state: str = "failed",
                        eids=None) -> int:
        """Mark executions left unfinished (by a crash, or at shutdown) with a reason."""
        table = self.tables.executions
        condition = table.c.state.in_(states)
        if eids is not None:
            if not eids:
                return 0
            condition = and_(condition, table.c.eid.in_(list(eids)))
        now = utcnow()
        with self.engine.begin() as conn:
            result = conn.execute(update(table).where(condition).values(
                state=new_state, description=reason, updated_time=now, finished_time=now))
        return result.rowcount

    def claim_execution(self, eid: str, hostname: str, pid: int,
                        started: datetime | None = None) -> bool:
        """scheduled -> running, for one process only: False when the execution was stopped,
        failed, or started elsewhere meanwhile (a broker delivering a message twice)."""
        now = utcnow()
        result = self._write(self._sql.claim_execution, {
            "_eid": eid, "state": "running", "hostname": hostname, "pid": pid,
            "started_time": to_naive_utc(started) if started else now, "updated_time": now})
        return result.rowcount == 1

    def execution_state(self, eid: str) -> str | None:
        table = self.tables.executions
        with self.engine.connect() as conn:
            return conn.execute(select(table.c.state).where(table.c.eid == eid)).scalar()

    def mark_stopping(self, eid: str) -> str | None:
        """A stop request: running -> stopping, scheduled -> stopped (it never starts).

        Returns the state the execution had, or None if there is no such execution."""
        table = self.tables.executions
        now = utcnow()
        with self.engine.begin() as conn:
            state = conn.execute(select(table.c.state).where(table.c.eid == eid)).scalar()
            if state == "running":
                conn.execute(update(table).where(table.c.eid == eid, table.c.state == state)
                             .values(state="stopping", updated_time=now))
            elif state == "scheduled":
                conn.execute(update(table).where(table.c.eid == eid, table.c.state == state)
                             .values(state="stopped", updated_time=now, finished_time=now,
                                     description="stopped on request before it started"))
        return state

    def previous_data(self, job_id: str, before_eid: str):
        """The stored ``_data`` of the job's latest succeeded execution before ``before_eid``."""
        table = self.tables.executions
        with self.engine.connect() as conn:
            current = conn.execute(select(table.c.scheduled_time)
                                   .where(table.c.eid == before_eid)).scalar()
            query = (select(table.c.data)
                     .where(table.c.job_id == job_id, table.c.state == "succeeded",
                            table.c.eid != before_eid))
            if current is not None:
                query = query.where(table.c.scheduled_time <= current)
            raw = conn.execute(query.order_by(table.c.scheduled_time.desc()).limit(1)).scalar()
        return json.loads(raw) if raw else None

    def earlier_final_states(self, job_id: str, before_eid: str, limit: int = 50) -> list[str]:
        """The final states of the job's runs before execution ``before_eid``, newest first:
        one per run (the state of its last attempt; retries are attempts of one run)."""
        table = self.tables.executions
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

    def delete_executions_of(self, job_id: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(delete(self.tables.executions)
                         .where(self.tables.executions.c.job_id == job_id))

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
        table = self.tables.logs
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


    # -- rows copied from another datastore (bots-scheduler migrate) ---------------------------
    def copy_executions(self, rows: list[dict]) -> None:
        """Insert executions as they were elsewhere (their ids and times), in one transaction."""
        if rows:
            with self.engine.begin() as conn:
                conn.execute(insert(self.tables.executions), rows)

    def copy_logs(self, rows: list[dict]) -> None:
        """Insert audit entries as they were elsewhere (their times), in one transaction."""
        if rows:
            with self.engine.begin() as conn:
                conn.execute(insert(self.tables.logs), rows)


class _Statements:
    """The writes of every run and every API change, built once and executed with their values
    as parameters: building ``insert(...).values(...)`` anew for each call cost SQLAlchemy more
    time than SQLite took to write the row (a run-now's three transactions: 1.2 -> 0.4 ms)."""

    def __init__(self, tables: Tables):
        executions = tables.executions
        self.execution_columns = frozenset(executions.c.keys())
        self.insert_execution = insert(executions)
        self.insert_log = insert(tables.logs)
        # the columns to set are the parameters' keys; "_eid" names the row
        self.update_execution = update(executions).where(executions.c.eid == bindparam("_eid"))
        self.claim_execution = update(executions).where(executions.c.eid == bindparam("_eid"),
                                                        executions.c.state == "scheduled")


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
