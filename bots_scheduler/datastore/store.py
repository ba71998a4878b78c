"""The datastore: the connection to SQLite, PostgreSQL or MySQL and the tables it holds.

The rows belong to their owners: executions, firings and the audit log to
``executions.store.ExecutionStore``, data files to ``datafiles.storage.DataFiles``, jobs to
APScheduler's job store.  All queries go through SQLAlchemy Core.  Times are stored as naive
UTC; ``to_iso`` prints them for the API.
"""
from __future__ import annotations

import functools
import logging
import time
from datetime import datetime, timezone
from pathlib import Path

import sqlalchemy
from sqlalchemy import event, select
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from bots_scheduler.private_files import private_sqlite
from bots_scheduler.datastore.migrate import add_missing_columns
from bots_scheduler.datastore.tables import Tables, make_tables
from bots_scheduler.errors import Unavailable, UsageError

log = logging.getLogger(__name__)

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
