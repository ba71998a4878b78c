"""The findings store: recording a run's findings, and reading findings, their history and the
counts of runs back (SQLAlchemy Core; SQLite, PostgreSQL, MySQL/MariaDB).

Recording one run is one transaction: read the job's known findings (identity, digest, state),
classify what the run reported, then write in bulk (inserts and updates as executemany, the
unchanged and gone ones with ``IN`` lists), so that a run of 10,000 findings takes a few hundred
milliseconds, not 10,000 round trips.
"""
from __future__ import annotations

import logging
import threading
from typing import Any
from dataclasses import asdict, dataclass
from datetime import datetime

from sqlalchemy import and_, bindparam, case, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased

from bots_scheduler.datastore.migrate import add_missing_columns
from bots_scheduler.datastore.store import to_iso, to_naive_utc, utcnow
from bots_scheduler.jobs.finding import Finding, identity
from bots_scheduler.findings.tables import FindingTables, make_finding_tables
from bots_scheduler.jsontext import RawJSON

log = logging.getLogger(__name__)

CHUNK = 500          # identities per IN list (SQLite allows 32,766 parameters; stay well below)


@dataclass(frozen=True)
class RunCounts:
    new: int = 0
    changed: int = 0
    unchanged: int = 0
    gone: int = 0

    def as_dict(self) -> dict:
        return asdict(self)

    @property
    def any_change(self) -> bool:
        return bool(self.new or self.changed or self.gone)


@dataclass(frozen=True)
class Recorded:
    """What recording a run did: its counts and the findings it saw new, changed and gone."""
    counts: RunCounts
    new: tuple[Finding, ...] = ()
    changed: tuple[Finding, ...] = ()
    gone: tuple[dict, ...] = ()           # {"kind", "key", "title", "severity"}
    # False: the run reported no finding and its job had none open (a job that does not
    # use findings): nothing was written
    used: bool = True


class FindingStore:
    def __init__(self, engine, table_name: str = "scheduler_findings"):
        self.engine = engine
        self.tables: FindingTables = make_finding_tables(table_name)
        h = self.tables.history
        self._mark = insert(h).values({name: bindparam(name) for name in (
            "ident", "eid", "job_id", "change", "time")})
        f = self.tables.findings
        self._any_open = select(f.c.ident).where(f.c.job_id == bindparam("job_id"),
                                                 f.c.state == "open").limit(1)
        self._job_locks: dict[str, threading.Lock] = {}
        self._locks_lock = threading.Lock()

    def create_tables(self) -> None:
        self.tables.metadata.create_all(self.engine)
        add_missing_columns(self.engine, self.tables.metadata)

    def _job_lock(self, job_id: str) -> threading.Lock:
        with self._locks_lock:
            return self._job_locks.setdefault(job_id, threading.Lock())

    # -- recording -----------------------------------------------------------------------------
    def record(self, job_id: str, job_class_string: str, eid: str, findings: list[Finding],
               seen: datetime | None = None) -> Recorded:
        """Record the findings of execution ``eid`` (a succeeded run of ``job_id``).

        Recording the same execution twice changes nothing the second time (a Celery message
        delivered twice).  Two runs of one job record one after the other (in this process; a
        run of another process that collides with this one is retried once)."""
        if not findings and not self.has_open(job_id):
            # most jobs use no findings: one indexed read, no transaction and no lock (a
            # scheduler firing 250 runs a second spent a third of each run here)
            return Recorded(RunCounts(), used=False)
        seen = to_naive_utc(seen or utcnow())
        with self._job_lock(job_id):
            try:
                return self._record(job_id, job_class_string, eid, findings, seen)
            except IntegrityError:
                # another process inserted one of our findings (or this run) meanwhile
                return self._record(job_id, job_class_string, eid, findings, seen)

    def has_open(self, job_id: str) -> bool:
        """Whether the job has an open finding."""
        with self.engine.connect() as conn:
            return conn.execute(self._any_open, {"job_id": job_id}).first() is not None

    def _record(self, job_id, job_class_string, eid, findings, seen) -> Recorded:
        f, h, runs = self.tables.findings, self.tables.history, self.tables.runs
        with self.engine.begin() as conn:
            done = conn.execute(select(runs.c.new, runs.c.changed, runs.c.unchanged,
                                       runs.c.gone).where(runs.c.eid == eid)).first()
            if done is not None:
                return Recorded(RunCounts(*done))
            known = {row[0]: row for row in conn.execute(
                select(f.c.ident, f.c.digest, f.c.state, f.c.kind, f.c.fkey, f.c.title,
                       f.c.severity).where(f.c.job_id == job_id))}
            if not findings and not any(row[2] == "open" for row in known.values()):
                return Recorded(RunCounts(), used=False)   # a job without findings: no row
            inserts, renewed, changed_rows, unchanged = [], [], [], []
            history: list[dict] = []
            marks: list[dict] = []
            new_items, changed_items = [], []
            reported = set()
            for item in findings:
                ident = identity(job_id, item.kind, item.key)
                if ident in reported:
                    continue
                reported.add(ident)
                digest = item.digest
                previous = known.get(ident)
                values = {"title": item.title, "severity": item.severity,
                          "details": item.details_json, "digest": digest}
                if previous is None or previous[2] == "gone":
                    change = "new"
                    new_items.append(item)
                    row = dict(values, ident=ident, job_id=job_id,
                               job_class_string=job_class_string, kind=item.kind,
                               fkey=item.key, state="open", first_seen=seen, first_eid=eid,
                               last_seen=seen, last_eid=eid, event_time=seen)
                    if previous is None:
                        inserts.append(row)
                    else:
                        renewed.append(dict(row, _ident=ident))
                elif previous[1] != digest:
                    change = "changed"
                    changed_items.append(item)
                    changed_rows.append(dict(values, _ident=ident, last_seen=seen,
                                             last_eid=eid, event_time=seen,
                                             job_class_string=job_class_string))
                else:
                    change = "unchanged"
                    unchanged.append(ident)
                if change == "unchanged":
                    marks.append({"ident": ident, "eid": eid, "job_id": job_id,
                                  "change": change, "time": seen})
                else:     # what the run said: the finding's values in that run
                    history.append({"ident": ident, "eid": eid, "job_id": job_id,
                                    "change": change, "time": seen, "title": item.title,
                                    "severity": item.severity, "details": item.details_json})
            gone = [row for ident, row in known.items()
                    if row[2] == "open" and ident not in reported]
            marks += [{"ident": row[0], "eid": eid, "job_id": job_id, "change": "gone",
                       "time": seen} for row in gone]
            if inserts:
                conn.execute(insert(f), inserts)
            full_update: dict[str, Any] = {name: bindparam(name) for name in (
                "title", "severity", "details", "digest", "job_class_string", "last_seen",
                "last_eid", "event_time")}
            if renewed:
                conn.execute(update(f).where(f.c.ident == bindparam("_ident")).values(
                    **full_update, state="open", first_seen=bindparam("first_seen"),
                    first_eid=bindparam("first_eid"), gone_time=None, gone_eid=None), renewed)
            if changed_rows:
                conn.execute(update(f).where(f.c.ident == bindparam("_ident"))
                             .values(**full_update), changed_rows)
            for chunk in _chunks(unchanged):
                conn.execute(update(f).where(f.c.ident.in_(chunk))
                             .values(last_seen=seen, last_eid=eid,
                                     job_class_string=job_class_string))
            for chunk in _chunks([row[0] for row in gone]):
                conn.execute(update(f).where(f.c.ident.in_(chunk))
                             .values(state="gone", gone_time=seen, gone_eid=eid,
                                     event_time=seen))
            if history:
                conn.execute(insert(h), history)
            if marks:      # unchanged and gone: five columns, not eight (10,000 a run)
                conn.execute(self._mark, marks)
            self._refresh_counts(conn, [job_id])
            counts = RunCounts(len(new_items), len(changed_items), len(unchanged), len(gone))
            conn.execute(insert(runs).values(eid=eid, job_id=job_id, recorded_time=seen,
                                             **counts.as_dict()))
        return Recorded(counts, tuple(new_items), tuple(changed_items),
                        tuple({"kind": row[3], "key": row[4], "title": row[5],
                               "severity": row[6]} for row in gone))

    def rebuild_counts(self) -> None:
        """Rewrite every job's counts (after rows were written other than by ``record``)."""
        f = self.tables.findings
        with self.engine.begin() as conn:
            jobs = list(conn.execute(select(f.c.job_id).distinct()).scalars())
            self._refresh_counts(conn, jobs)

    def _refresh_counts(self, conn, job_ids) -> None:
        """Rewrite the per-job counts (kind, state, severity) from the findings table."""
        f, c = self.tables.findings, self.tables.counts
        for chunk in _chunks(list(job_ids)):
            conn.execute(delete(c).where(c.c.job_id.in_(chunk)))
            conn.execute(insert(c).from_select(
                ["job_id", "job_class_string", "kind", "state", "severity", "n"],
                select(f.c.job_id, func.max(f.c.job_class_string), f.c.kind, f.c.state,
                       f.c.severity, func.count())
                .where(f.c.job_id.in_(chunk))
                .group_by(f.c.job_id, f.c.kind, f.c.state, f.c.severity)))

    # -- reading -------------------------------------------------------------------------------
    def run_counts(self, eids) -> dict[str, dict]:
        """{eid: {"new", "changed", "unchanged", "gone"}} of the recorded runs among ``eids``."""
        runs = self.tables.runs
        out: dict[str, dict] = {}
        with self.engine.connect() as conn:
            for chunk in _chunks(list(dict.fromkeys(eids))):
                for eid, *counts in conn.execute(
                        select(runs.c.eid, runs.c.new, runs.c.changed, runs.c.unchanged,
                               runs.c.gone).where(runs.c.eid.in_(chunk))):
                    out[eid] = RunCounts(*counts).as_dict()
        return out

    def list_findings(self, limit: int, offset: int = 0, job_id: str | None = None,
                      state: str | None = None, kind: str | None = None,
                      severity: str | None = None, since: datetime | None = None,
                      hidden_classes=()) -> tuple[list[dict], int]:
        """A page of findings, the latest event (new, changed, gone) first."""
        f = self.tables.findings
        where = []
        if job_id:
            where.append(f.c.job_id == job_id)
        if state:
            where.append(f.c.state == state)
        if kind:
            where.append(f.c.kind == kind)
        if severity:
            where.append(f.c.severity == severity)
        if since is not None:
            where.append(f.c.event_time >= to_naive_utc(since))
        if hidden_classes:
            where.append(f.c.job_class_string.not_in(list(hidden_classes)))
        condition = and_(True, *where)
        with self.engine.connect() as conn:
            rows = conn.execute(select(*(f.c[name] for name in FINDING_COLUMNS))
                                .where(condition)
                                .order_by(f.c.event_time.desc(), f.c.ident.desc())
                                .limit(limit).offset(offset)).all()
            if offset == 0 and len(rows) < limit:
                total = len(rows)
            elif since is None:
                total = self._counted(conn, job_id, state, kind, severity, hidden_classes)
            else:
                total = int(conn.execute(select(func.count()).select_from(f)
                                         .where(condition)).scalar() or 0)
        return [finding_dict(row) for row in rows], total

    def _counted(self, conn, job_id, state, kind, severity, hidden_classes) -> int:
        c = self.tables.counts
        where = [c.c[name] == value for name, value in (
            ("job_id", job_id), ("state", state), ("kind", kind), ("severity", severity))
            if value]
        if hidden_classes:
            where.append(c.c.job_class_string.not_in(list(hidden_classes)))
        return int(conn.execute(select(func.coalesce(func.sum(c.c.n), 0))
                                .where(and_(True, *where))).scalar() or 0)

    def get_finding(self, ident: str, hidden_classes=()) -> dict | None:
        """One finding with its history (newest first; runs that saw it unchanged left out)."""
        f, h = self.tables.findings, self.tables.history
        with self.engine.connect() as conn:
            row = conn.execute(select(*(f.c[name] for name in FINDING_COLUMNS),
                                      f.c.job_class_string).where(f.c.ident == ident)).first()
            if row is None or row[-1] in hidden_classes:
                return None
            events = conn.execute(select(h.c.eid, h.c.change, h.c.time, h.c.title,
                                         h.c.severity, h.c.details)
                                  .where(h.c.ident == ident, h.c.change != "unchanged")
                                  .order_by(h.c.id.desc()).limit(1000)).all()
            seen_runs = conn.execute(select(func.count()).select_from(h)
                                     .where(h.c.ident == ident, h.c.change != "gone")).scalar()
        out = finding_dict(row[:-1])
        out["runs_seen"] = int(seen_runs or 0)
        out["history"] = [{"execution_id": eid, "change": change, "time": time,
                           "title": title, "severity": severity,
                           "details": RawJSON(details) if details else None}
                          for eid, change, time, title, severity, details in events]
        return out

    def execution_findings(self, eid: str, change: str | None = None, limit: int = 500,
                           offset: int = 0) -> tuple[list[dict], int]:
        """The findings execution ``eid`` recorded, each with its ``change``, and the values it
        had in that run (the latest new/changed values up to it)."""
        f, h = self.tables.findings, self.tables.history
        snap = aliased(h, name="snap")
        latest = aliased(h, name="latest")
        snapshot_id = (select(func.max(latest.c.id))
                       .where(latest.c.ident == h.c.ident, latest.c.id <= h.c.id,
                              latest.c.change.in_(("new", "changed")))
                       .scalar_subquery())
        where = [h.c.eid == eid]
        if change:
            where.append(h.c.change == change)
        condition = and_(*where)
        page = (select(h.c.id, h.c.ident, h.c.change, h.c.time,
                       snapshot_id.label("snap_id"))
                .where(condition).order_by(h.c.id).limit(limit).offset(offset).subquery())
        query = (select(page.c.ident, page.c.change, page.c.time, f.c.job_id, f.c.kind,
                        f.c.fkey, *(case((snap.c.id.is_not(None), snap.c[name]), else_=f.c[name])
                                   for name in ("title", "severity", "details")), f.c.state)
                 .select_from(page.join(f, f.c.ident == page.c.ident)
                              .outerjoin(snap, snap.c.id == page.c.snap_id))
                 .order_by(page.c.id))
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
            if offset == 0 and len(rows) < limit:
                total = len(rows)
            else:
                total = int(conn.execute(select(func.count()).select_from(h)
                                         .where(condition)).scalar() or 0)
        return [{"id": ident, "execution_id": eid, "change": change_, "time": time,
                 "job_id": job_id, "kind": kind, "key": key, "title": title,
                 "severity": severity, "details": RawJSON(details) if details else {},
                 "state": state}
                for ident, change_, time, job_id, kind, key, title, severity, details, state
                in rows], total

    # -- retention -----------------------------------------------------------------------------
    def forget_executions(self, eids) -> int:
        """Delete the history and counts of executions that retention pruned."""
        h, runs = self.tables.history, self.tables.runs
        deleted = 0
        for chunk in _chunks(list(eids)):
            with self.engine.begin() as conn:
                deleted += conn.execute(delete(h).where(h.c.eid.in_(chunk))).rowcount or 0
                conn.execute(delete(runs).where(runs.c.eid.in_(chunk)))
        return deleted

    def prune_gone(self, cutoff: datetime, batch: int = CHUNK) -> int:
        """Delete findings gone before ``cutoff`` with their history; open ones are kept."""
        f, h = self.tables.findings, self.tables.history
        cutoff = to_naive_utc(cutoff)
        deleted = 0
        while True:
            with self.engine.begin() as conn:
                rows = conn.execute(select(f.c.ident, f.c.job_id)
                                    .where(f.c.state == "gone", f.c.event_time < cutoff)
                                    .limit(batch)).all()
                idents = [row[0] for row in rows]
                if idents:
                    conn.execute(delete(h).where(h.c.ident.in_(idents)))
                    conn.execute(delete(f).where(f.c.ident.in_(idents)))
                    self._refresh_counts(conn, {row[1] for row in rows})
            deleted += len(idents)
            if len(idents) < batch:
                return deleted


FINDING_COLUMNS = ("ident", "job_id", "kind", "fkey", "title", "severity", "details", "state",
                   "first_seen", "last_seen", "first_eid", "last_eid", "gone_time", "gone_eid",
                   "event_time")


def finding_dict(row) -> dict:
    """The API's view of a finding row (FINDING_COLUMNS), for ``jsontext.dumps``."""
    (ident, job_id, kind, key, title, severity, details, state, first_seen, last_seen,
     first_eid, last_eid, gone_time, gone_eid, event_time) = row
    return {"id": ident, "job_id": job_id, "kind": kind, "key": key, "title": title,
            "severity": severity, "details": RawJSON(details) if details else {},
            "state": state, "first_seen": first_seen, "last_seen": last_seen,
            "first_execution_id": first_eid, "last_execution_id": last_eid,
            "gone_time": gone_time or "", "gone_execution_id": gone_eid or "",
            "event_time": event_time}


def plain(finding: dict) -> dict:
    """A finding dict with JSON values only (RawJSON parsed, times as ISO text)."""
    out = {}
    for name, value in finding.items():
        if isinstance(value, RawJSON):
            value = value.value()
        elif isinstance(value, datetime):
            value = to_iso(value)
        out[name] = value
    return out


def _chunks(items: list, size: int = CHUNK):
    for start in range(0, len(items), size):
        yield items[start:start + size]
