"""A datastore made by an earlier version gets the columns this one needs, once, at start-up."""
from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import Column, MetaData, Table, inspect, insert

from bots_scheduler.cli.definition import build_parser
from bots_scheduler.datastore.store import Datastore
from bots_scheduler.executions.store import ExecutionStore
from bots_scheduler.settings import database_settings

NEW_COLUMNS = ("attempt", "first_eid")


def test_missing_execution_columns_are_added_once_and_old_rows_read_as_first_attempts(
        database):
    options = build_parser().parse_args(["run", *database])
    store = Datastore(database_settings(options, Path("data")), pool_size=2)
    try:
        current = store.tables.executions
        old = Table(current.name, MetaData(),
                    *(Column(c.name, c.type, primary_key=c.primary_key, nullable=c.nullable)
                      for c in current.columns if c.name not in NEW_COLUMNS))
        old.create(store.engine)
        now = datetime.now(timezone.utc).replace(tzinfo=None)
        with store.engine.begin() as conn:
            conn.execute(insert(old).values(eid="e1", job_id="j1", job_class_string="a.B",
                                            job='{"job_id": "j1"}', state="succeeded",
                                            scheduled_time=now, updated_time=now))
        store.create_tables()
        columns = {c["name"] for c in inspect(store.engine).get_columns(current.name)}
        assert set(NEW_COLUMNS) <= columns
        from bots_scheduler.datastore.migrate import add_missing_columns
        assert add_missing_columns(store.engine, store.tables.metadata) == []
        execution = ExecutionStore(store.engine, store.tables).get("e1")
        assert (execution["attempt"], execution["first_execution_id"]) == (1, "e1")
    finally:
        store.dispose()


def test_logs_get_the_job_class_column_and_hide_disabled_classes_but_show_older_entries(
        database):
    options = build_parser().parse_args(["run", *database])
    store = Datastore(database_settings(options, Path("data")), pool_size=2)
    try:
        current = store.tables.logs
        old = Table(current.name, MetaData(),
                    *(Column(c.name, c.type, primary_key=c.primary_key, nullable=c.nullable,
                             autoincrement=c.autoincrement)
                      for c in current.columns if c.name != "job_class_string"))
        old.create(store.engine)
        now = datetime.now(timezone.utc).replace(tzinfo=None)
        with store.engine.begin() as conn:
            conn.execute(insert(old).values(job_id="j0", job_name="old", event="added",
                                            user="u", created_time=now))
        store.create_tables()
        columns = {c["name"] for c in inspect(store.engine).get_columns(current.name)}
        assert "job_class_string" in columns
        audit = ExecutionStore(store.engine, store.tables)
        audit.add_log("j1", "shell", "added", "u", "", "a.Disabled")
        audit.add_log("j2", "kept", "added", "u", "", "a.Enabled")
        audit.add_log("", "", "file added", "u", "f.txt")
        start = datetime(2000, 1, 1, tzinfo=timezone.utc)
        end = datetime(2100, 1, 1, tzinfo=timezone.utc)
        rows, total = audit.list_logs(start, end, 100, hidden_classes={"a.Disabled"})
        assert total == 3
        assert sorted(row["job_name"] for row in rows) == ["", "kept", "old"]
    finally:
        store.dispose()
