"""A process's part in the cluster: its node row, and for a scheduler the leader's lease and
the reaper.

Every couple of seconds the coordinator refreshes this node's row; a scheduler also renews (or
tries to take) the lease.  Only the leader sees the shared job store's due jobs (see
cluster/jobstore.py); it wakes APScheduler at every step, so jobs changed through another
instance (straight in the shared store) are honoured within seconds.  The others serve the API
and run what is asked of them (run-now, retries).  The leader also fails the executions of
processes that died (cluster/reaper.py).  A worker only keeps its node row fresh.
"""
from __future__ import annotations

import logging
import threading
import time
from datetime import timedelta

from sqlalchemy.exc import SQLAlchemyError

from bots_scheduler.cluster.lease import Lease
from bots_scheduler.cluster.members import HEARTBEAT, Membership, node_view
from bots_scheduler.cluster.reaper import Reaper
from bots_scheduler.cluster.tables import ClusterTables
from bots_scheduler.datastore.store import utcnow

log = logging.getLogger(__name__)

REAP_EVERY = 4.0          # seconds between two searches for orphaned executions
HOUSEKEEP_EVERY = 3600.0  # seconds between two purges of old firings and node rows
RECENT_WORKERS = timedelta(minutes=10)


class Coordinator:
    """``role``: "scheduler" or "worker"; ``name``/``address``/``detail`` describe this node in
    the cluster view; ``queue_limit``: the misfire grace time (seconds a queued run may wait);
    ``executor``/``broker``: shown in the cluster view."""

    def __init__(self, engine, tables: ClusterTables, lifecycle, role: str = "scheduler", *,
                 name: str = "", address: str = "", detail: str = "",
                 queue_limit: float = 3600, executor: str = "threads", broker: str = ""):
        self.engine = engine
        self.role = role
        self.queue_limit = queue_limit
        self.executor, self.broker = executor, broker
        self.tables = tables
        self.store = lifecycle.store
        self.membership = Membership(engine, self.tables.nodes, role, name=name,
                                     hostname=lifecycle.hostname, address=address,
                                     detail=detail)
        self.lease = Lease(engine, self.tables.lease, self.membership.node_id,
                           self.membership.node_is_dead)
        self.reaper = Reaper(lifecycle, self.membership, queue_limit=queue_limit)
        self._wakeup = None
        self._stop = threading.Event()
        self._retiring = False
        self._thread: threading.Thread | None = None
        self._last_reap = 0.0
        self._last_housekeeping = 0.0

    # -- life cycle --------------------------------------------------------------------------
    def create_tables(self) -> None:
        self.tables.metadata.create_all(self.engine)

    def recover(self, reason: str) -> int:
        """At start-up: fail executions left active by processes that are gone (this one's
        earlier life included), but not those of live schedulers and workers."""
        failed = self.reaper.reap(reason, at_startup=True)
        self.membership.forget_dead_here()
        return failed

    def start(self, wakeup=None) -> None:
        """``wakeup()``: called at every step while this scheduler leads, so that APScheduler
        looks at the shared job store again (jobs changed through another instance)."""
        self._wakeup = wakeup
        self.membership.join()
        self._step()     # a lone scheduler fires from its first second
        self._thread = threading.Thread(target=self._loop, name="cluster", daemon=True)
        self._thread.start()

    def retire(self) -> None:
        """Stop firing and hand the lease over at once; keep the node row fresh while the
        runs of this process finish."""
        self._retiring = True
        self.lease.release()

    def stop(self) -> None:
        self._retiring = True
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self.lease.release()
        try:
            self.membership.leave()
        except SQLAlchemyError as exc:
            log.warning("cluster: node row not removed: %s", str(exc).splitlines()[0])

    def may_fire(self) -> bool:
        return self.role == "scheduler" and not self._retiring and self.lease.valid()

    # -- the loop ----------------------------------------------------------------------------
    def _loop(self) -> None:
        while not self._stop.wait(HEARTBEAT):
            try:
                self._step()
            except Exception:      # never let the loop die: the lease would lapse silently
                log.exception("cluster step failed")

    def _step(self) -> None:
        try:
            self.membership.heartbeat()
        except SQLAlchemyError as exc:
            log.warning("cluster: heartbeat failed: %s", str(exc).splitlines()[0])
        if self._retiring or self.role != "scheduler":
            return
        leader = self.lease.tick()
        if leader and self._wakeup is not None:
            self._wakeup()     # jobs changed through another instance; a lease just taken
        if leader:
            self._every(REAP_EVERY, "_last_reap", self.reaper.reap)
            self._every(HOUSEKEEP_EVERY, "_last_housekeeping", self._housekeeping)

    def _every(self, seconds: float, attribute: str, action) -> None:
        now = time.monotonic()
        if now - getattr(self, attribute) < seconds:
            return
        setattr(self, attribute, now)
        try:
            action()
        except SQLAlchemyError as exc:
            log.warning("cluster: %s failed: %s", getattr(action, "__name__", action),
                        str(exc).splitlines()[0])

    def _housekeeping(self) -> None:
        keep = timedelta(seconds=self.queue_limit) + timedelta(days=1)
        self.store.forget_firings(utcnow() - keep)
        self.membership.forget_old()

    # -- the view of GET /api/v1/cluster -----------------------------------------------------
    def view(self) -> dict:
        leader = self.lease.holder()
        me = self.membership.node_id
        nodes = self.membership.nodes()
        recent = utcnow() - RECENT_WORKERS
        return {
            "this": me,
            "leader": leader or "",
            "executor": self.executor,
            "broker": self.broker,
            "schedulers": [node_view(n, leader, me) for n in nodes
                           if n["role"] == "scheduler" and n["last_seen"] >= recent],
            "workers": [node_view(n, leader, me) for n in nodes
                        if n["role"] == "worker" and n["last_seen"] >= recent],
        }
