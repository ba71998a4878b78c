"""The leader's lease: one row in the database, held by the one scheduler that fires jobs.

The holder renews it every few seconds by bumping its version.  The others never compare clocks
across machines: each notes, on its own monotonic clock, when it last saw the version change, and
may take the lease (compare-and-swap on the version) once it has stayed unchanged for ``TTL``
seconds -- or at once when the holder is certainly dead (released, row gone, or a dead process of
this machine).  The holder stops firing ``MARGIN`` seconds before any other may take over, counted
from the start of its last successful renewal.
"""
from __future__ import annotations

import logging
import time
from typing import Callable

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from bots_scheduler.datastore.store import utcnow

log = logging.getLogger(__name__)

NAME = "scheduler"
TTL = 8.0         # seconds a lease stays valid without renewal, as seen by the others
MARGIN = 2.0      # the holder considers it lost this much earlier


class Lease:
    def __init__(self, engine, table, node_id: str, holder_is_dead: Callable[[str], bool],
                 ttl: float = TTL, margin: float = MARGIN, clock=time.monotonic):
        self.engine = engine
        self.table = table
        self.node_id = node_id
        self.holder_is_dead = holder_is_dead
        self.ttl = ttl
        self.margin = margin
        self.clock = clock
        self.leader = False
        self._valid_until = 0.0
        self._seen: tuple[int | None, float] = (None, 0.0)   # (version, when first seen)

    def valid(self) -> bool:
        """Whether this node may fire jobs right now."""
        return self.leader and self.clock() < self._valid_until

    def tick(self) -> bool:
        """Renew or try to acquire; returns whether this node is the leader afterwards."""
        began = self.clock()
        try:
            if self.leader:
                if self._renew():
                    self._valid_until = began + self.ttl - self.margin
                else:
                    log.warning("leader lease lost to another scheduler")
                    self.leader = False
            elif self._acquire(began):
                log.info("leader lease acquired: this scheduler fires the jobs")
                self.leader = True
                self._valid_until = began + self.ttl - self.margin
        except SQLAlchemyError as exc:
            log.warning("leader lease: database error: %s", str(exc).splitlines()[0])
        if self.leader and self.clock() >= self._valid_until:
            log.warning("leader lease not renewed in time: stepping down")
            self.leader = False
        return self.leader

    def holder(self) -> str | None:
        with self.engine.connect() as conn:
            return conn.execute(select(self.table.c.holder)
                                .where(self.table.c.name == NAME)).scalar()

    def release(self) -> None:
        if not self.leader:
            return
        self.leader = False
        try:
            with self.engine.begin() as conn:
                conn.execute(update(self.table)
                             .where(self.table.c.name == NAME,
                                    self.table.c.holder == self.node_id)
                             .values(holder=None, version=self.table.c.version + 1))
        except SQLAlchemyError as exc:
            log.warning("leader lease not released: %s", str(exc).splitlines()[0])

    # -- steps -------------------------------------------------------------------------------
    def _renew(self) -> bool:
        with self.engine.begin() as conn:
            result = conn.execute(update(self.table)
                                  .where(self.table.c.name == NAME,
                                         self.table.c.holder == self.node_id)
                                  .values(version=self.table.c.version + 1,
                                          renewed_time=utcnow()))
        return result.rowcount == 1

    def _acquire(self, now: float) -> bool:
        with self.engine.connect() as conn:
            row = conn.execute(select(self.table.c.holder, self.table.c.version)
                               .where(self.table.c.name == NAME)).first()
        if row is None:
            return self._create()
        if row.version != self._seen[0]:
            self._seen = (row.version, now)
        expired = now - self._seen[1] >= self.ttl
        ours = row.holder == self.node_id      # after a renewal lost to a database error
        if not (row.holder is None or ours or expired or self.holder_is_dead(row.holder)):
            return False
        with self.engine.begin() as conn:
            result = conn.execute(update(self.table)
                                  .where(self.table.c.name == NAME,
                                         self.table.c.version == row.version)
                                  .values(holder=self.node_id, version=row.version + 1,
                                          acquired_time=utcnow(), renewed_time=utcnow()))
        if result.rowcount == 1 and row.holder and row.holder != self.node_id:
            log.warning("took over the leader lease from %s (%s)", row.holder,
                        "expired" if expired else "its process is gone")
        return result.rowcount == 1

    def _create(self) -> bool:
        try:
            with self.engine.begin() as conn:
                conn.execute(insert(self.table).values(
                    name=NAME, holder=self.node_id, version=1, acquired_time=utcnow(),
                    renewed_time=utcnow()))
        except IntegrityError:       # another scheduler created it first
            return False
        return True
