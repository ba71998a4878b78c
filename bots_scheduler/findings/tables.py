"""The findings tables, named from ``--findings-table`` (default ``scheduler_findings``).

- ``<name>``: one row per finding (job, kind, key): its current title, severity, details and
  state (open/gone), when and by which execution it was first and last seen, and
  ``event_time``, the last time it was new, changed or gone (what ``since`` filters on and
  what lists are ordered by).
- ``<name>_history``: one row per finding and recorded run, with the change (new, changed,
  unchanged, gone) and, for new and changed, the values the run reported.
- ``<name>_runs``: one row per recorded run with its counts (the Reports list shows them for
  hundreds of runs at once, which counting the history would not do quickly).
- ``<name>_counts``: how many findings each job has per kind, state and severity, rewritten for
  the job each time it is recorded: the ``total`` of a list answer is a sum of a few of these
  rows instead of a COUNT over a million findings (200 ms on SQLite).

This package is the only writer of the three.  A finding's row is keyed by ``ident``, a digest of
(job, kind, key) (see ``item.identity``), so that the key needs no index of its own.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import (BigInteger, Column, Index, Integer, MetaData, String, Table, Text)

from bots_scheduler.datastore.tables import LongText, UtcDateTime

# the longest --findings-table name: the suffixes and index names must stay within the 63
# characters of a PostgreSQL identifier
MAX_NAME = 40


@dataclass(frozen=True)
class FindingTables:
    metadata: MetaData
    findings: Table
    history: Table
    runs: Table
    counts: Table


def make_finding_tables(name: str, metadata: MetaData | None = None) -> FindingTables:
    metadata = metadata if metadata is not None else MetaData()
    findings = Table(
        name, metadata,
        Column("ident", String(64), primary_key=True),
        Column("job_id", String(191), nullable=False),
        Column("job_class_string", String(255), nullable=False, default=""),
        Column("kind", String(512), nullable=False),
        Column("fkey", String(512), nullable=False),
        Column("title", Text),
        Column("severity", String(16), nullable=False),
        Column("details", LongText),                   # JSON object
        Column("digest", String(64), nullable=False),  # of title, severity, details
        Column("state", String(8), nullable=False),
        Column("first_seen", UtcDateTime, nullable=False),
        Column("first_eid", String(32), nullable=False),
        Column("last_seen", UtcDateTime, nullable=False),
        Column("last_eid", String(32), nullable=False),
        Column("gone_time", UtcDateTime),
        Column("gone_eid", String(32)),
        Column("event_time", UtcDateTime, nullable=False),
        # the default page (newest events first) and each filter read an index, not the table
        Index(f"ix_{name}_event", "event_time", "ident"),
        Index(f"ix_{name}_job", "job_id", "event_time"),
        Index(f"ix_{name}_state", "state", "event_time"),
        Index(f"ix_{name}_severity", "severity", "event_time"),
        Index(f"ix_{name}_kind", "kind", "event_time", mysql_length={"kind": 191}),
    )
    history = Table(
        f"{name}_history", metadata,
        Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True,
               autoincrement=True),
        Column("ident", String(64), nullable=False),
        Column("eid", String(32), nullable=False),
        Column("job_id", String(191), nullable=False),
        Column("change", String(10), nullable=False),
        Column("time", UtcDateTime, nullable=False),
        Column("title", Text),                         # new and changed: what the run said
        Column("severity", String(16)),
        Column("details", LongText),
        Index(f"ix_{name}_h_eid", "eid", "id"),
        Index(f"ix_{name}_h_ident", "ident", "id"),
    )
    runs = Table(
        f"{name}_runs", metadata,
        Column("eid", String(32), primary_key=True),
        Column("job_id", String(191), nullable=False),
        Column("recorded_time", UtcDateTime, nullable=False),
        Column("new", Integer, nullable=False, default=0),
        Column("changed", Integer, nullable=False, default=0),
        Column("unchanged", Integer, nullable=False, default=0),
        Column("gone", Integer, nullable=False, default=0),
        Index(f"ix_{name}_r_job", "job_id", "recorded_time"),
    )
    counts = Table(
        f"{name}_counts", metadata,
        Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True,
               autoincrement=True),
        Column("job_id", String(191), nullable=False),
        Column("job_class_string", String(255), nullable=False, default=""),
        Column("kind", String(512), nullable=False),
        Column("state", String(8), nullable=False),
        Column("severity", String(16), nullable=False),
        Column("n", Integer, nullable=False),
        Index(f"ix_{name}_c_job", "job_id"),
    )
    return FindingTables(metadata, findings, history, runs, counts)
