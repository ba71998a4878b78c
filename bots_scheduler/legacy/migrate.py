"""``bots-scheduler migrate``: an ndscheduler 0.3 / original Bots Scheduler datastore, copied.

What is copied (CONTRACT §9):

- jobs, with their id, name, class string, ``pub_args``, cron fields, time zone and paused
  state.  The original's class strings ``jobs.<module>.<Class>`` become ``<module>.<Class>``
  (how a module of a jobs folder is named here).  A job whose class is not found here is copied
  all the same: it runs ``scheduled error`` until its module is added.
- executions, with their id, state, host, pid, times and result (``results`` makes it a report).
- the audit log, with its times, users and descriptions.

Copying twice copies nothing twice: jobs and executions are matched by id, audit entries (which
have no id there) by job id, event, time, user and description.  A row that cannot be read, or
that has no equivalent here, is skipped and listed in the summary; the others are copied.
``dry_run`` reads the target without writing to it (not even creating its tables or file).
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone

import sqlalchemy
from sqlalchemy import inspect, select
from sqlalchemy.exc import SQLAlchemyError

from bots_scheduler.datastore.tables import Tables, make_tables
from bots_scheduler.executions.store import ExecutionStore
from bots_scheduler.legacy import results, source as src
from bots_scheduler.legacy.jobstate import LegacyJob, UnreadableJob, read_job
from bots_scheduler.scheduling import jobspec

ORIGINAL_CLASS = re.compile(r"^jobs\.([A-Za-z_][A-Za-z0-9_]*)\.([A-Za-z_][A-Za-z0-9_]*)$")
JOB_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,191}$")
EXECUTION_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,32}$")
BATCH = 500


def our_class_string(stored: str) -> str:
    """The original's ``jobs.<module>.<Class>`` is ``<module>.<Class>`` here."""
    match = ORIGINAL_CLASS.match(stored or "")
    return f"{match.group(1)}.{match.group(2)}" if match else stored


@dataclass
class Counts:
    copied: int = 0
    present: int = 0
    skipped: int = 0


@dataclass
class MigrationResult:
    dry_run: bool
    source: str
    target: str
    jobs: Counts = field(default_factory=Counts)
    executions: Counts = field(default_factory=Counts)
    logs: Counts = field(default_factory=Counts)
    skipped: list = field(default_factory=list)        # (table, row, reason)
    unknown_classes: list = field(default_factory=list)   # (job id, name, class string)


# -- the target ----------------------------------------------------------------------------------

class TargetReader:
    """What the target already holds, read with plain SELECTs (missing tables: nothing)."""

    def __init__(self, engine, tables: Tables, jobs_table: str):
        self.engine = engine            # None: the target does not exist yet (SQLite file)
        self.tables = tables
        self.jobs_table = jobs_table
        self._present: set[str] | None = None

    def _has(self, name: str) -> bool:
        if self.engine is None:
            return False
        if self._present is None:
            with self.engine.connect() as conn:
                self._present = set(inspect(conn).get_table_names())
        return name in self._present

    def job_ids(self) -> set[str]:
        if not self._has(self.jobs_table):
            return set()
        jobs = sqlalchemy.table(self.jobs_table, sqlalchemy.column("id"))
        with self.engine.connect() as conn:
            return set(conn.execute(select(jobs.c.id)).scalars())

    def execution_ids(self, eids: list[str]) -> set[str]:
        if not eids or not self._has(self.tables.executions.name):
            return set()
        return set(ExecutionStore(self.engine, self.tables).existing_ids(eids))

    def log_keys(self, start: datetime, end: datetime) -> set[tuple]:
        if not self._has(self.tables.logs.name):
            return set()
        return {log_key(*row)
                for row in ExecutionStore(self.engine, self.tables).log_facts(start, end)}


def log_key(job_id, event, created, user, description) -> tuple:
    if isinstance(created, datetime) and created.tzinfo is not None:
        created = created.astimezone(timezone.utc).replace(tzinfo=None)
    return (job_id or "", event, created, user or "", description or "")


def read_only_reader(database) -> TargetReader:
    """The configured datastore, for a dry run: nothing is created, converted or written."""
    tables = make_tables(database.executions_table, database.logs_table, database.files_table)
    if database.dbms == "sqlite":
        path = database.sqlite_path
        if not path.is_file():
            return TargetReader(None, tables, database.jobs_table)
        url = sqlalchemy.URL.create("sqlite", database=f"file:{path.resolve()}?mode=ro",
                                    query={"uri": "true"})
        engine = sqlalchemy.create_engine(url, poolclass=sqlalchemy.pool.NullPool)
    else:
        engine = sqlalchemy.create_engine(database.url, poolclass=sqlalchemy.pool.NullPool,
                                          connect_args={"connect_timeout": 5})
    return TargetReader(engine, tables, database.jobs_table)


class TargetWriter:
    """Writes to the configured datastore: jobs through its APScheduler scheduler ``aps``
    (stored as a job created through the API is), executions and audit entries through the
    ExecutionStore ``executions``."""

    def __init__(self, aps, executions):
        self.aps = aps
        self.executions = executions

    def add_job(self, job: LegacyJob, class_string: str, trigger) -> None:
        from bots_scheduler.scheduling.runner import FIRE
        extra = {} if not job.paused else {"next_run_time": None}   # None: stored paused
        self.aps.add_job(
            FIRE, trigger=trigger, id=job.job_id, name=job.name,
            args=[class_string, job.job_id, *job.pub_args], kwargs={}, jobstore="default",
            replace_existing=False, **extra)

    def add_executions(self, rows: list[dict]) -> None:
        self.executions.copy_executions(rows)

    def add_logs(self, rows: list[dict]) -> None:
        self.executions.copy_logs(rows)


# -- the copy ------------------------------------------------------------------------------------

class Migration:
    def __init__(self, source: src.Source, reader: TargetReader, writer: TargetWriter | None,
                 registry, target_label: str):
        self.source = source
        self.reader = reader
        self.writer = writer            # None: dry run
        self.registry = registry
        self.result = MigrationResult(dry_run=writer is None, source=source.label,
                                      target=target_label)
        self.jobs: dict[str, dict] = {}   # job id -> our Job object (executions' snapshots)

    def run(self) -> MigrationResult:
        self.copy_jobs()
        logs = self.read_logs()           # before executions: deleted jobs are described there
        self.copy_executions()
        self.copy_logs(logs)
        return self.result

    def skip(self, counts: Counts, table: str, row: str, reason: str) -> None:
        counts.skipped += 1
        self.result.skipped.append((table, row, reason))

    # -- jobs ----------------------------------------------------------------------------
    def copy_jobs(self) -> None:
        counts, table = self.result.jobs, self.source.names.jobs
        present = self.reader.job_ids()
        for row_id, blob in self.source.job_rows():
            label = f"id {row_id}"
            try:
                if not isinstance(row_id, str) or not JOB_ID.match(row_id):
                    raise UnreadableJob("the job id is not 1-191 letters, digits or _ . : -")
                job = read_job(row_id, blob)
                class_string = our_class_string(job.job_class_string)
                trigger = self.check_job(job)
            except (UnreadableJob, jobspec.InvalidJob) as exc:
                self.skip(counts, table, label, str(exc))
                continue
            self.jobs[job.job_id] = job_snapshot(job, class_string)
            if job.job_id in present:
                counts.present += 1
                continue
            if self.registry is not None and self.registry.get(class_string) is None:
                self.result.unknown_classes.append((job.job_id, job.name, class_string))
            if self.writer is not None:
                try:
                    self.writer.add_job(job, class_string, trigger)
                except (SQLAlchemyError, ValueError) as exc:
                    self.skip(counts, table, label, f"cannot be written: {_first_line(exc)}")
                    continue
            counts.copied += 1

    @staticmethod
    def check_job(job: LegacyJob):
        """Our trigger for the job; InvalidJob/UnreadableJob when it has no equivalent here."""
        if not job.name.strip():
            raise UnreadableJob("the job has an empty name")
        if len(job.name) > jobspec.MAX_NAME:
            raise UnreadableJob(f"the job's name is longer than {jobspec.MAX_NAME} characters")
        if len(job.pub_args) > jobspec.MAX_ARGS:
            raise UnreadableJob(f"the job has more than {jobspec.MAX_ARGS} arguments")
        return jobspec.build_trigger(job.fields, job.timezone)

    # -- audit log (read first: deleted jobs are described in it) -------------------------
    def read_logs(self) -> list[dict]:
        counts, table = self.result.logs, self.source.names.logs
        entries = []
        for row in self.source.log_rows():
            try:
                entry = log_entry(row)
            except src.BadRow as exc:
                self.skip(counts, table, f"entry of {str(row.get('created_time'))[:32]} (job "
                                         f"{str(row.get('job_id'))[:40]})", str(exc))
                continue
            if entry["event"] == "deleted" and entry["job_id"] not in self.jobs:
                snapshot = deleted_job_snapshot(entry)
                if snapshot:
                    self.jobs[entry["job_id"]] = snapshot
            entries.append(entry)
        for entry in entries:
            job = self.jobs.get(entry["job_id"])
            entry["job_class_string"] = job["job_class_string"] if job else (
                "" if entry["event"].startswith("file ") else None)
        return entries

    def copy_logs(self, entries: list[dict]) -> None:
        counts, table = self.result.logs, self.source.names.logs
        if not entries:
            return
        start = min(entry["created_time"] for entry in entries)
        end = max(entry["created_time"] for entry in entries)
        present = self.reader.log_keys(start, end)
        fresh = []
        for entry in entries:
            key = log_key(entry["job_id"], entry["event"], entry["created_time"], entry["user"],
                          entry["description"])
            if key in present:
                counts.present += 1
                continue
            present.add(key)            # the same entry twice in the source: once here
            fresh.append(entry)
        self._write(fresh, counts, table, self.writer.add_logs if self.writer else None,
                    lambda entry: f"entry of {entry['created_time'].isoformat()} "
                                  f"(job {entry['job_id'][:40]})")

    # -- executions -----------------------------------------------------------------------
    def copy_executions(self) -> None:
        counts, table = self.result.executions, self.source.names.executions
        batch = []
        for row in self.source.execution_rows():
            try:
                batch.append(self.execution(row))
            except src.BadRow as exc:
                self.skip(counts, table, f"eid {str(row.get('eid'))[:40]}", str(exc))
                continue
            if len(batch) >= BATCH:
                self._copy_execution_batch(batch)
                batch = []
        self._copy_execution_batch(batch)

    def _copy_execution_batch(self, batch: list[dict]) -> None:
        counts, table = self.result.executions, self.source.names.executions
        present = self.reader.execution_ids([row["eid"] for row in batch])
        fresh = []
        for row in batch:
            if row["eid"] in present:
                counts.present += 1
            else:
                present.add(row["eid"])
                fresh.append(row)
        self._write(fresh, counts, table, self.writer.add_executions if self.writer else None,
                    lambda row: f"eid {row['eid']}")

    def execution(self, row: dict) -> dict:
        eid = src.text(row["eid"], "eid")
        if not EXECUTION_ID.match(eid):
            raise src.BadRow("the execution id is not 1-32 letters, digits or _ . : -")
        job_id = src.text(row["job_id"], "job_id")
        if not JOB_ID.match(job_id):
            raise src.BadRow("the job id is not 1-191 letters, digits or _ . : -")
        state = src.state_name(row["state"])
        scheduled = src.utc_time(row["scheduled_time"], "scheduled_time")
        updated = src.utc_time(row["updated_time"], "updated_time", required=False) or scheduled
        job = self.jobs.get(job_id) or {"job_id": job_id}
        finished = updated if state not in ("scheduled", "running", "stopping") else None
        report = results.report_html(src.text(row["result"], "result"),
                                     job.get("name") or f"job {job_id}")
        return {"eid": eid, "job_id": job_id, "job_class_string": job.get("job_class_string", ""),
                "job": json.dumps(job), "state": state,
                "hostname": src.text(row["hostname"], "hostname", limit=255),
                "pid": _pid(row["pid"]), "scheduled_time": scheduled, "started_time": None,
                "finished_time": finished, "updated_time": updated,
                "description": src.text(row["description"], "description"),
                "result": report, "task_id": src.text(row["task_id"], "task_id", 191) or None,
                "attempt": 1, "first_eid": None}

    # -- writing, row by row when a batch fails ---------------------------------------------
    def _write(self, rows: list[dict], counts: Counts, table: str, write, label) -> None:
        if not rows:
            return
        if write is None:
            counts.copied += len(rows)
            return
        try:
            write(rows)
            counts.copied += len(rows)
            return
        except SQLAlchemyError:
            pass                        # find the row(s) the database refuses
        for row in rows:
            try:
                write([row])
                counts.copied += 1
            except SQLAlchemyError as exc:
                self.skip(counts, table, label(row), f"cannot be written: {_first_line(exc)}")


def log_entry(row: dict) -> dict:
    job_id = src.text(row["job_id"], "job_id", limit=191)
    event = src.event_name(row["event"])
    description = src.text(row["description"], "description")
    if event == "modified":
        description = modification_text(description)
    return {"job_id": job_id, "job_name": src.text(row["job_name"], "job_name", limit=255),
            "event": event, "user": src.text(row["user"], "user", limit=255),
            "created_time": src.utc_time(row["created_time"], "created_time"),
            "description": description}


# ndscheduler describes a modification as HTML, one line per field:
# <b>FIELD</b>: <font color="red">OLD</font> => <font color="green">NEW</font><br>
_CHANGE = re.compile(r'<b>(\w+)</b>: <font color="red">(.*?)</font> => '
                     r'<font color="green">(.*?)</font><br>', re.S)


def modification_text(description: str) -> str:
    """ndscheduler's HTML description of a modification in ours ("field: old → new; …"), which
    the Logs tab shows field by field (markup in a description is shown as text)."""
    changes = _CHANGE.findall(description)
    if not changes or _CHANGE.sub("", description).strip():
        return description              # not (only) ndscheduler's form: kept as it is
    return "; ".join(f"{field}: {old} → {new}" for field, old, new in changes)


def job_snapshot(job: LegacyJob, class_string: str) -> dict:
    """Our Job object for a copied job (what its copied executions show as their job)."""
    return {"job_id": job.job_id, "name": job.name, "job_class_string": class_string,
            "pub_args": job.pub_args,
            **{name: job.fields[name] for name in jobspec.API_CRON_FIELDS},
            "second": job.fields["second"], "timezone": job.timezone}


def deleted_job_snapshot(entry: dict) -> dict | None:
    """ndscheduler describes a deleted job in its audit entry, as its API showed it."""
    try:
        described = json.loads(entry["description"])
    except ValueError:
        return None
    if not isinstance(described, dict) or not isinstance(described.get("job_class_string"), str):
        return None
    snapshot = {"job_id": entry["job_id"], "name": entry["job_name"],
                "job_class_string": our_class_string(described["job_class_string"])}
    if isinstance(described.get("pub_args"), list):
        snapshot["pub_args"] = described["pub_args"]
    for name in jobspec.API_CRON_FIELDS:
        if isinstance(described.get(name), str):
            snapshot[name] = described[name]
    return snapshot


def _pid(value) -> int | None:
    if value is None or value == "":
        return None
    try:
        pid = int(value)
    except (TypeError, ValueError):
        raise src.BadRow(f"pid {str(value)[:20]!r} is not a number") from None
    return pid if 0 <= pid < 2 ** 31 else None


def _first_line(exc: Exception) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


# -- the summary ---------------------------------------------------------------------------------

def describe(result: MigrationResult) -> str:
    copied = "would be copied" if result.dry_run else "copied"
    lines = [f"{'dry run: nothing written; ' if result.dry_run else ''}from {result.source} "
             f"into {result.target}"]
    for label, counts in (("jobs", result.jobs), ("executions", result.executions),
                          ("audit log entries", result.logs)):
        lines.append(f"{label}: {counts.copied} {copied}, {counts.present} already there, "
                     f"{counts.skipped} skipped")
    if result.unknown_classes:
        lines.append("jobs whose class is not found here (they end 'scheduled error' until "
                     "their module is in a jobs folder):")
        lines.extend(f"  {job_id}  {name}: {class_string}"
                     for job_id, name, class_string in result.unknown_classes)
    if result.skipped:
        lines.append(f"rows skipped ({len(result.skipped)}), the rest was "
                     f"{'checked' if result.dry_run else 'copied'}:")
        lines.extend(f"  {table} {row}: {reason}" for table, row, reason in result.skipped)
    return "\n".join(lines)
