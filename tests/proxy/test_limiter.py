"""Brute-force limiting by client address, on a clock the test moves."""
from __future__ import annotations

from bots_scheduler.proxy.limiter import FailureLimiter


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def test_ten_failures_within_a_minute_block_the_address_for_a_minute():
    clock = Clock()
    limiter = FailureLimiter(10, 60, 60, clock=clock)
    for _ in range(9):
        limiter.failed("10.0.0.1")
    assert limiter.blocked_for("10.0.0.1") == 0
    limiter.failed("10.0.0.1")
    assert limiter.blocked_for("10.0.0.1") == 60
    clock.now += 59
    assert limiter.blocked_for("10.0.0.1") == 1
    clock.now += 1
    assert limiter.blocked_for("10.0.0.1") == 0


def test_failures_older_than_the_window_do_not_count():
    clock = Clock()
    limiter = FailureLimiter(10, 60, 60, clock=clock)
    for _ in range(9):
        limiter.failed("10.0.0.1")
    clock.now += 61
    limiter.failed("10.0.0.1")
    assert limiter.blocked_for("10.0.0.1") == 0


def test_other_addresses_are_not_blocked():
    limiter = FailureLimiter(2, 60, 60, clock=Clock())
    limiter.failed("10.0.0.1")
    limiter.failed("10.0.0.1")
    assert limiter.blocked_for("10.0.0.1") > 0
    assert limiter.blocked_for("10.0.0.2") == 0


def test_memory_stays_bounded_with_many_addresses():
    limiter = FailureLimiter(10, 60, 60, clock=Clock(), max_clients=100)
    for n in range(1000):
        limiter.failed(f"10.0.{n // 256}.{n % 256}")
    assert len(limiter._failures) == 100
