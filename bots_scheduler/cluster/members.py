"""Membership: every scheduler and worker keeps a row in the nodes table fresh, so that the
others know it is alive (a node not seen for ``DEAD_AFTER`` seconds is dead)."""
from __future__ import annotations

import logging
import os
import secrets
from datetime import timedelta

from sqlalchemy import delete, insert, select, update

from bots_scheduler.datastore.store import to_iso, utcnow

log = logging.getLogger(__name__)

HEARTBEAT = 2.0        # seconds between two refreshes of a node's row
DEAD_AFTER = 12.0      # a node whose row is older than this is dead
FORGET_AFTER = timedelta(days=1)   # rows of nodes gone this long are deleted


def pid_exists(pid: int) -> bool:
    """Whether a process with this id runs on this machine."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:     # someone else's process: it exists
        return True
    return True


class Membership:
    def __init__(self, engine, table, role: str, hostname: str, name: str = "",
                 address: str = "", detail: str = ""):
        self.engine = engine
        self.table = table
        self.role = role
        self.hostname = hostname
        self.pid = os.getpid()
        self.node_id = f"{hostname[:40]}-{self.pid}-{secrets.token_hex(4)}"
        self.name = name or f"{role}@{hostname}"
        self.address = address
        self.detail = detail

    # -- this node ---------------------------------------------------------------------------
    def join(self) -> None:
        now = utcnow()
        with self.engine.begin() as conn:
            conn.execute(insert(self.table).values(
                node_id=self.node_id, role=self.role, name=self.name[:255],
                hostname=self.hostname, pid=self.pid, address=self.address[:255],
                detail=self.detail[:255], started_time=now, last_seen=now))

    def heartbeat(self) -> None:
        with self.engine.begin() as conn:
            result = conn.execute(update(self.table).where(self.table.c.node_id == self.node_id)
                                  .values(last_seen=utcnow()))
        if result.rowcount == 0:     # our row was removed (a reset of the tables): come back
            self.join()

    def leave(self) -> None:
        with self.engine.begin() as conn:
            conn.execute(delete(self.table).where(self.table.c.node_id == self.node_id))

    def forget_dead_here(self) -> None:
        """Rows of processes of this machine that are gone (an earlier life of a restarted
        instance, a killed worker)."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(self.table.c.node_id, self.table.c.pid)
                                .where(self.table.c.hostname == self.hostname)).all()
        dead = [node_id for node_id, pid in rows if pid != self.pid and not pid_exists(pid)]
        if dead:
            with self.engine.begin() as conn:
                conn.execute(delete(self.table).where(self.table.c.node_id.in_(dead)))

    def forget_old(self) -> None:
        with self.engine.begin() as conn:
            conn.execute(delete(self.table)
                         .where(self.table.c.last_seen < utcnow() - FORGET_AFTER))

    # -- the others --------------------------------------------------------------------------
    def nodes(self) -> list[dict]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(self.table).order_by(self.table.c.role,
                                                            self.table.c.started_time))
            return [dict(row) for row in rows.mappings()]

    def live_owners(self) -> set[tuple[str, int]]:
        """(hostname, pid) of every node seen within DEAD_AFTER seconds."""
        since = utcnow() - timedelta(seconds=DEAD_AFTER)
        with self.engine.connect() as conn:
            rows = conn.execute(select(self.table.c.hostname, self.table.c.pid)
                                .where(self.table.c.last_seen >= since)).all()
        return {(hostname, pid) for hostname, pid in rows}

    def node_is_dead(self, node_id: str) -> bool:
        """Certainly dead: its row is gone, or it ran on this machine and its process is gone.
        (Elsewhere only the passing of time tells; see Lease.)"""
        with self.engine.connect() as conn:
            row = conn.execute(select(self.table.c.hostname, self.table.c.pid)
                               .where(self.table.c.node_id == node_id)).first()
        if row is None:
            return True
        return row.hostname == self.hostname and row.pid != self.pid and not pid_exists(row.pid)

    def owner_alive(self, hostname: str, pid: int, live: set, myself_alive: bool) -> bool:
        """Whether the process that owns an execution (its hostname and pid) still runs."""
        if (hostname, pid) == (self.hostname, self.pid):
            return myself_alive
        if hostname == self.hostname and not pid_exists(pid):
            return False
        return (hostname, pid) in live


def node_view(row: dict, leader_id: str | None, me: str) -> dict:
    last_seen = row["last_seen"]
    age = (utcnow() - last_seen).total_seconds()
    return {"node_id": row["node_id"], "name": row["name"], "hostname": row["hostname"],
            "pid": row["pid"], "address": row["address"], "detail": row["detail"],
            "started_time": to_iso(row["started_time"]), "last_seen": to_iso(last_seen),
            "seconds_since_seen": round(max(age, 0.0), 1), "alive": age <= DEAD_AFTER,
            "leader": row["node_id"] == leader_id, "this": row["node_id"] == me}
