"""Rows written straight into a server's SQLite datastore: old or many executions that the
scheduler itself would take days to produce. The server reads them through its real API."""
from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import sqlalchemy
from sqlalchemy import insert

from bots_scheduler.datastore.tables import make_tables

TABLES = make_tables("scheduler_execution", "scheduler_jobauditlog", "scheduler_files")


def engine_of(workdir: Path) -> sqlalchemy.Engine:
    path = Path(workdir) / "data" / "datastore.db"
    assert path.exists(), f"no datastore at {path}: start the server first"
    return sqlalchemy.create_engine(f"sqlite:///{path}", connect_args={"timeout": 30})


def utc_naive(moment: datetime) -> datetime:
    return moment.astimezone(timezone.utc).replace(tzinfo=None)


def execution_row(job: dict, state: str, scheduled: datetime, seconds: float = 1.0,
                  result: str = "", **extra) -> dict:
    started = scheduled + timedelta(seconds=0.2)
    return {"eid": uuid.uuid4().hex, "job_id": job["job_id"],
            "job_class_string": job.get("job_class_string", ""), "job": json.dumps(job),
            "state": state, "hostname": "seed-host", "pid": 4242,
            "scheduled_time": utc_naive(scheduled), "started_time": utc_naive(started),
            "finished_time": utc_naive(started + timedelta(seconds=seconds)),
            "updated_time": utc_naive(started + timedelta(seconds=seconds)),
            "description": extra.pop("description", f"seeded {state}"), "result": result,
            **extra}


def insert_executions(workdir: Path, rows: list[dict], batch: int = 5000) -> None:
    engine = engine_of(workdir)
    with engine.begin() as conn:
        for start in range(0, len(rows), batch):
            conn.execute(insert(TABLES.executions), rows[start:start + batch])
    engine.dispose()


def insert_logs(workdir: Path, rows: list[dict], batch: int = 5000) -> None:
    engine = engine_of(workdir)
    with engine.begin() as conn:
        for start in range(0, len(rows), batch):
            conn.execute(insert(TABLES.logs), rows[start:start + batch])
    engine.dispose()
