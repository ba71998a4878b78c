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


def test_attempts_in_flight_count_before_their_verdict():
    """60 simultaneous guesses: only max_failures are let through to the password check."""
    limiter = FailureLimiter(10, 60, 60, clock=Clock())
    admitted = [limiter.begin("10.0.0.1", f"guess {n}".encode()) == 0 for n in range(60)]
    assert admitted.count(True) == 10
    assert admitted[:10] == [True] * 10
    for n in range(10):
        limiter.end("10.0.0.1", f"guess {n}".encode(), ok=False)
    assert limiter.blocked_for("10.0.0.1") == 60
    assert limiter.begin("10.0.0.1", b"the right one") == 60


def test_identical_credentials_in_flight_are_one_attempt():
    """A browser loading a page sends the same credentials in parallel requests."""
    limiter = FailureLimiter(2, 60, 60, clock=Clock())
    assert all(limiter.begin("10.0.0.1", b"same") == 0 for _ in range(20))
    for _ in range(20):
        limiter.end("10.0.0.1", b"same", ok=True)
    assert limiter.begin("10.0.0.1", b"other") == 0


def test_a_shared_wrong_attempt_counts_as_one_failure():
    limiter = FailureLimiter(3, 60, 60, clock=Clock())
    for _ in range(5):
        assert limiter.begin("10.0.0.1", b"wrong") == 0
    for _ in range(5):
        limiter.end("10.0.0.1", b"wrong", ok=False)
    assert limiter.blocked_for("10.0.0.1") == 0
    assert limiter.begin("10.0.0.1", b"second") == 0
    limiter.end("10.0.0.1", b"second", ok=False)
    assert limiter.begin("10.0.0.1", b"third") == 0
    limiter.end("10.0.0.1", b"third", ok=False)
    assert limiter.blocked_for("10.0.0.1") == 60


def test_failures_and_attempts_in_flight_add_up():
    clock = Clock()
    limiter = FailureLimiter(3, 60, 60, clock=clock)
    for guess in (b"a", b"b"):
        limiter.begin("10.0.0.1", guess)
        limiter.end("10.0.0.1", guess, ok=False)
    assert limiter.begin("10.0.0.1", b"c") == 0
    assert limiter.begin("10.0.0.1", b"d") == 60     # 2 failed + 1 in flight
    assert limiter.begin("10.0.0.2", b"d") == 0      # another address is not concerned
    limiter.end("10.0.0.1", b"c", ok=True)
    clock.now += 61                                   # the failures leave the window
    assert limiter.begin("10.0.0.1", b"d") == 0
