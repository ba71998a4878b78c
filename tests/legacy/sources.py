"""Old datastores to migrate from: the one made by the real ndscheduler 0.3.0
(fixtures/ndscheduler-0.3.0.sqlite, made by fixtures/make_ndscheduler_fixture.sh), and the same
schema and rows written to PostgreSQL and MariaDB."""
from __future__ import annotations

import contextlib
import json
import shutil
import sqlite3
import uuid
from datetime import datetime, timezone
from pathlib import Path

import psycopg
import pymysql
import sqlalchemy
from sqlalchemy import (Column, DateTime, Float, Integer, LargeBinary, MetaData, Table, Text,
                        Unicode, insert)

from tests.support.databases import MY, PG
from tests.support.services import require

FIXTURES = Path(__file__).parent / "fixtures"
FIXTURE = FIXTURES / "ndscheduler-0.3.0.sqlite"
MANIFEST = json.loads((FIXTURES / "ndscheduler-0.3.0.json").read_text())
TABLES = ("scheduler_jobs", "scheduler_execution", "scheduler_jobauditlog")


def ndscheduler_metadata(jobs="scheduler_jobs", executions="scheduler_execution",
                         logs="scheduler_jobauditlog") -> MetaData:
    """ndscheduler 0.3.0's tables (ndscheduler/core/datastore/tables.py) and APScheduler
    3.0's jobs table, as their SQLAlchemy definitions create them on each DBMS."""
    metadata = MetaData()
    Table(jobs, metadata, Column("id", Unicode(191), primary_key=True),
          Column("next_run_time", Float(25), index=True),
          Column("job_state", LargeBinary, nullable=False))
    Table(executions, metadata, Column("eid", Unicode(191), primary_key=True),
          Column("hostname", Text), Column("pid", Integer),
          Column("state", Integer, nullable=False),
          Column("scheduled_time", DateTime(timezone=True), nullable=False),
          Column("updated_time", DateTime(timezone=True)), Column("description", Text),
          Column("result", Text), Column("job_id", Text, nullable=False),
          Column("task_id", Text))
    Table(logs, metadata, Column("job_id", Text, nullable=False),
          Column("job_name", Text, nullable=False), Column("event", Integer, nullable=False),
          Column("user", Text), Column("created_time", DateTime(timezone=True), nullable=False),
          Column("description", Text))
    return metadata


def fixture_rows() -> dict[str, list[dict]]:
    """The fixture's rows, times as aware UTC datetimes."""
    conn = sqlite3.connect(FIXTURE)
    conn.row_factory = sqlite3.Row
    rows = {}
    for table in TABLES:
        rows[table] = []
        for row in conn.execute(f"SELECT * FROM {table}"):
            row = dict(row)
            for key in ("scheduled_time", "updated_time", "created_time"):
                if row.get(key):
                    row[key] = datetime.fromisoformat(row[key]).replace(tzinfo=timezone.utc)
            rows[table].append(row)
    conn.close()
    return rows


def sqlite_source(folder: Path, name: str = "old.db") -> Path:
    path = Path(folder) / name
    shutil.copyfile(FIXTURE, path)
    return path


@contextlib.contextmanager
def server_source(kind: str):
    """A fresh PostgreSQL or MariaDB database holding the fixture's tables and rows; yields
    its URL as a user would write it (postgresql://… or mysql://…)."""
    require(kind)
    name = f"bs_old_{uuid.uuid4().hex[:12]}"
    if kind == "postgresql":
        with psycopg.connect(**PG, dbname="postgres", autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        url = f"postgresql://postgres@127.0.0.1:5432/{name}"
        engine = sqlalchemy.create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    else:
        conn = pymysql.connect(**MY, autocommit=True)
        with conn.cursor() as cur:
            cur.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
        conn.close()
        url = f"mysql://root@127.0.0.1:3306/{name}"
        engine = sqlalchemy.create_engine(url.replace("mysql://", "mysql+pymysql://"))
    try:
        metadata = ndscheduler_metadata()
        metadata.create_all(engine)
        with engine.begin() as conn:
            for table, rows in fixture_rows().items():
                conn.execute(insert(metadata.tables[table]), rows)
        engine.dispose()
        yield url
    finally:
        engine.dispose()
        if kind == "postgresql":
            with psycopg.connect(**PG, dbname="postgres", autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        else:
            conn = pymysql.connect(**MY, autocommit=True)
            with conn.cursor() as cur:
                cur.execute(f"DROP DATABASE IF EXISTS `{name}`")
            conn.close()
