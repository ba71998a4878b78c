"""The datastore of ndscheduler 0.3 / the original Bots Scheduler, read (never written).

Its tables (ndscheduler 0.3.0, ``ndscheduler/core/datastore/tables.py``; APScheduler 3.0's job
store for the jobs):

- jobs: ``id``, ``next_run_time``, ``job_state`` (pickled; ``jobstate`` reads it)
- executions: ``eid``, ``hostname``, ``pid``, ``state`` (integer), ``scheduled_time``,
  ``updated_time``, ``description``, ``result`` (JSON text of what ``run`` returned, or a
  traceback), ``job_id``, ``task_id``
- audit log: ``job_id``, ``job_name``, ``event`` (integer), ``user``, ``created_time``,
  ``description`` (no id column)

Times are UTC.  Columns are read untyped (the database's own values): one malformed time in a
SQLite file must cost its row, not the whole read.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import sqlalchemy
from sqlalchemy import Column, MetaData, Table, inspect, select
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError, SQLAlchemyError
from sqlalchemy.types import NullType

from bots_scheduler.errors import UsageError

# ndscheduler/constants.py; 6 and 7 were added by the original Bots Scheduler (core/__init__.py)
STATES = {0: "scheduled", 1: "running", 2: "stopping", 3: "stopped", 4: "failed",
          5: "succeeded", 6: "timeout", 7: "scheduled error"}
EVENTS = {0: "added", 1: "modified", 2: "deleted", 3: "paused", 4: "resumed", 5: "custom_run",
          6: "file added", 7: "file deleted"}
DEFAULT_TABLES = {"jobs": "scheduler_jobs", "executions": "scheduler_execution",
                  "logs": "scheduler_jobauditlog"}
EXECUTION_COLUMNS = ("eid", "hostname", "pid", "state", "scheduled_time", "updated_time",
                     "description", "result", "job_id", "task_id")
LOG_COLUMNS = ("job_id", "job_name", "event", "user", "created_time", "description")
BATCH = 500


class SourceError(UsageError):
    """The source cannot be used at all (bad URL, unreachable, missing table): exit 2."""


class BadRow(ValueError):
    """One row that cannot be read: reported at the end, skipped."""


@dataclass(frozen=True)
class SourceTables:
    jobs: str = DEFAULT_TABLES["jobs"]
    executions: str = DEFAULT_TABLES["executions"]
    logs: str = DEFAULT_TABLES["logs"]


def source_url(text: str) -> sqlalchemy.URL:
    """SOURCE_URL with the drivers installed here: sqlite:///PATH (an existing file, opened
    read-only), postgresql://… (psycopg) or mysql://… (PyMySQL)."""
    try:
        url = sqlalchemy.make_url(text)
    except (ArgumentError, ValueError):
        raise SourceError(f"SOURCE_URL {text!r} is not a database URL (sqlite:///PATH, "
                          f"postgresql://USER@HOST/DATABASE or mysql://USER@HOST/DATABASE)") \
            from None
    backend = url.get_backend_name()
    if backend == "sqlite":
        if not url.database or url.database == ":memory:":
            raise SourceError("SOURCE_URL: sqlite:/// needs the path of the datastore file")
        path = Path(url.database)
        if not path.is_file():
            raise SourceError(f"SOURCE_URL: {path} does not exist or is not a file")
        # read-only: connecting must not create, convert or lock the old datastore for writing
        return sqlalchemy.URL.create("sqlite", database=f"file:{path.resolve()}?mode=ro",
                                     query={"uri": "true"})
    if backend in ("postgresql", "postgres"):
        return url.set(drivername="postgresql+psycopg")
    if backend in ("mysql", "mariadb"):
        query = dict(url.query)
        query.setdefault("charset", "utf8mb4")
        return url.set(drivername="mysql+pymysql", query=query)
    raise SourceError(f"SOURCE_URL: {backend!r} databases are not supported (sqlite, postgresql "
                      f"or mysql)")


class Source:
    def __init__(self, text: str, tables: SourceTables):
        self.url = source_url(text)
        self.label = sqlalchemy.make_url(text).render_as_string(hide_password=True)
        self.names = tables
        try:
            self.engine = sqlalchemy.create_engine(self.url, poolclass=sqlalchemy.pool.NullPool)
        except NoSuchModuleError as exc:
            raise SourceError(f"SOURCE_URL: {exc}") from None
        self.jobs = _untyped(tables.jobs, ("id", "next_run_time", "job_state"))
        self.executions = _untyped(tables.executions, EXECUTION_COLUMNS)
        self.logs = _untyped(tables.logs, LOG_COLUMNS)

    def check(self) -> None:
        """Raise SourceError unless the source answers and has the three tables."""
        try:
            with self.engine.connect() as conn:
                present = set(inspect(conn).get_table_names())
        except (DBAPIError, SQLAlchemyError, OSError) as exc:
            reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()
            raise SourceError(f"cannot read {self.label}: "
                              f"{reason[0] if reason else type(exc).__name__}") from None
        for option, name in (("--from-jobs-table", self.names.jobs),
                             ("--from-executions-table", self.names.executions),
                             ("--from-logs-table", self.names.logs)):
            if name not in present:
                raise SourceError(f"{self.label} has no table {name!r} (choose it with {option}; "
                                  f"tables there: {', '.join(sorted(present)) or 'none'})")

    def dispose(self) -> None:
        self.engine.dispose()

    def job_rows(self):
        """(id, job_state) of every stored job."""
        table = self.jobs
        yield from self._rows(select(table.c.id, table.c.job_state).order_by(table.c.id))

    def execution_rows(self):
        """Dicts of EXECUTION_COLUMNS, oldest first."""
        table = self.executions
        query = select(*(table.c[name] for name in EXECUTION_COLUMNS)).order_by(
            table.c.scheduled_time, table.c.eid)
        for row in self._rows(query):
            yield dict(zip(EXECUTION_COLUMNS, row, strict=True))

    def log_rows(self):
        """Dicts of LOG_COLUMNS, oldest first."""
        table = self.logs
        query = select(*(table.c[name] for name in LOG_COLUMNS)).order_by(table.c.created_time)
        for row in self._rows(query):
            yield dict(zip(LOG_COLUMNS, row, strict=True))

    def _rows(self, query):
        with self.engine.connect() as conn:
            result = conn.execution_options(stream_results=True, yield_per=BATCH).execute(query)
            for partition in result.partitions(BATCH):
                yield from partition


def _untyped(name: str, columns) -> Table:
    return Table(name, MetaData(), *(Column(column, NullType()) for column in columns))


# -- values ----------------------------------------------------------------------------------

def utc_time(value, column: str, required: bool = True) -> datetime | None:
    """A stored time as naive UTC (how our tables keep times)."""
    if value is None or value == "":
        if required:
            raise BadRow(f"{column} is empty")
        return None
    if isinstance(value, bytes):
        value = value.decode("ascii", "replace")
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip())
        except ValueError:
            raise BadRow(f"{column} {value[:40]!r} is not a time") from None
    if not isinstance(value, datetime):
        raise BadRow(f"{column} is not a time")
    if value.tzinfo is not None:
        value = value.astimezone(timezone.utc).replace(tzinfo=None)
    return value


def state_name(value) -> str:
    number = _integer(value, "state")
    if number not in STATES:
        raise BadRow(f"unknown execution state {number} (ndscheduler knows 0-7)")
    return STATES[number]


def event_name(value) -> str:
    number = _integer(value, "event")
    if number not in EVENTS:
        raise BadRow(f"unknown audit event {number} (0-5 ndscheduler's, 6-7 the original's)")
    return EVENTS[number]


def text(value, column: str, limit: int | None = None) -> str:
    if value is None:
        return ""
    if isinstance(value, bytes):
        try:
            value = value.decode("utf-8")
        except UnicodeDecodeError:
            raise BadRow(f"{column} is not UTF-8 text") from None
    if not isinstance(value, str):
        value = str(value)
    if limit is not None and len(value) > limit:
        raise BadRow(f"{column} is longer than {limit} characters")
    return value


def _integer(value, column: str) -> int:
    if isinstance(value, bool):
        raise BadRow(f"{column} {value!r} is not a number")
    if isinstance(value, int):
        return value
    try:
        return int(str(value).strip())
    except ValueError:
        raise BadRow(f"{column} {str(value)[:40]!r} is not a number") from None
