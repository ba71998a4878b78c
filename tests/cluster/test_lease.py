"""The leader's lease on a real database, with clocks the test moves (no sleeping)."""
from __future__ import annotations

import pytest
import sqlalchemy

from bots_scheduler.cluster.lease import MARGIN, TTL, Lease
from bots_scheduler.cluster.tables import make_cluster_tables


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


@pytest.fixture
def table(tmp_path):
    engine = sqlalchemy.create_engine(f"sqlite:///{tmp_path / 'lease.db'}")
    tables = make_cluster_tables("scheduler_jobs")
    tables.metadata.create_all(engine)
    yield engine, tables.lease
    engine.dispose()


def lease(table, node_id, clock, dead=()):
    engine, lease_table = table
    return Lease(engine, lease_table, node_id, lambda holder: holder in dead, clock=clock)


def test_one_node_takes_the_free_lease_and_the_other_waits(table):
    a, b = lease(table, "a", Clock()), lease(table, "b", Clock())
    assert a.tick() and a.valid()
    assert not b.tick() and not b.valid()
    assert b.holder() == "a"


def test_a_lease_left_unrenewed_for_the_ttl_is_taken_over(table):
    clock_a, clock_b = Clock(), Clock()
    a, b = lease(table, "a", clock_a), lease(table, "b", clock_b)
    a.tick()
    b.tick()                       # b first sees the lease
    clock_b.now += TTL - 0.1
    assert not b.tick()            # not yet: the version has not stayed unchanged long enough
    clock_b.now += 0.2
    assert b.tick() and b.holder() == "b"
    assert not a.tick() and not a.valid()     # a's renewal is refused: it stops firing


def test_renewals_keep_the_lease_however_long_the_others_watch(table):
    clock_a, clock_b = Clock(), Clock()
    a, b = lease(table, "a", clock_a), lease(table, "b", clock_b)
    for _ in range(20):
        assert a.tick()
        assert not b.tick()
        clock_a.now += 2
        clock_b.now += 2
    assert b.holder() == "a"


def test_the_holder_stops_firing_before_anyone_may_take_over(table):
    clock = Clock()
    a = lease(table, "a", clock)
    a.tick()
    clock.now += TTL - MARGIN - 0.01
    assert a.valid()
    clock.now += 0.02
    assert not a.valid()           # no renewal for TTL - MARGIN seconds: no more firing


def test_a_released_lease_or_a_dead_holder_is_taken_at_once(table):
    a, b, c = lease(table, "a", Clock()), lease(table, "b", Clock()), \
        lease(table, "c", Clock(), dead={"b"})
    a.tick()
    a.release()
    assert b.tick() and b.holder() == "b"
    assert c.tick() and c.holder() == "c"     # b is known dead (its process is gone)


def test_two_candidates_never_both_win_the_same_expired_lease(table):
    clocks = [Clock(), Clock(), Clock()]
    a, b, c = (lease(table, name, clock) for name, clock in zip("abc", clocks, strict=True))
    a.tick()
    b.tick()
    c.tick()
    for clock in clocks[1:]:
        clock.now += TTL + 1
    assert [b.tick(), c.tick()].count(True) == 1
