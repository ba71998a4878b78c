"""The cluster's own tables, named after the jobs table they coordinate.

- ``<jobs>_nodes``: one row per live process (scheduler or worker), refreshed every few seconds.
- ``<jobs>_lease``: one row; its holder is the leader, the only scheduler that fires jobs.
- ``<jobs>_firings``: one row per (job, scheduled time) fired; its primary key is what makes a
  firing yield one execution even when two schedulers (or a restarted one) see it due.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import BigInteger, Column, Integer, MetaData, String, Table

from bots_scheduler.datastore.tables import UtcDateTime

PREFIX_LENGTH = 48     # identifiers stay within PostgreSQL's 63 and MySQL's 64 characters


@dataclass(frozen=True)
class ClusterTables:
    metadata: MetaData
    nodes: Table
    lease: Table
    firings: Table


def make_cluster_tables(jobs_table: str) -> ClusterTables:
    prefix = jobs_table[:PREFIX_LENGTH]
    metadata = MetaData()
    nodes = Table(
        f"{prefix}_nodes", metadata,
        Column("node_id", String(64), primary_key=True),
        Column("role", String(16), nullable=False),          # scheduler | worker
        Column("name", String(255), nullable=False, default=""),
        Column("hostname", String(255), nullable=False),
        Column("pid", Integer, nullable=False),
        Column("address", String(255), nullable=False, default=""),
        Column("detail", String(255), nullable=False, default=""),
        Column("started_time", UtcDateTime, nullable=False),
        Column("last_seen", UtcDateTime, nullable=False),
    )
    lease = Table(
        f"{prefix}_lease", metadata,
        Column("name", String(32), primary_key=True),
        Column("holder", String(64)),                         # a node_id, or NULL when released
        Column("version", BigInteger, nullable=False),        # +1 at every renewal
        Column("acquired_time", UtcDateTime),
        Column("renewed_time", UtcDateTime),
    )
    firings = Table(
        f"{prefix}_firings", metadata,
        Column("job_id", String(191), primary_key=True),
        Column("run_time", UtcDateTime, primary_key=True),
        Column("eid", String(32), nullable=False),
        Column("created_time", UtcDateTime, nullable=False),
    )
    return ClusterTables(metadata, nodes, lease, firings)
