"""Brute-force limiting: too many login attempts from one client address block it for a while.

Attempts are counted when they *start*, not when their verdict is known: a password check takes
a while (bcrypt on a worker thread), and counting failures only afterwards let 60 simultaneous
guesses all be checked before the first one was counted. An address may have at most
``max_failures`` attempts that are in flight or failed within the window; the next one is
refused without being checked. Identical credentials sent together share one verification
(see credentials.py), so they are one attempt: a browser loading a page with the right
password in parallel requests is not blocked.
"""
from __future__ import annotations

import time
from collections import OrderedDict, deque


class FailureLimiter:
    """``max_failures`` failures within ``window`` seconds block the client for ``block`` seconds.

    Only the event loop of the proxy calls it, so it needs no lock; ``begin`` decides and counts
    in one synchronous step. Memory stays bounded: the least recently seen addresses are
    forgotten beyond ``max_clients`` (addresses with attempts in flight are kept).
    """

    def __init__(self, max_failures: int = 10, window: float = 60, block: float = 60,
                 clock=time.monotonic, max_clients: int = 10_000):
        self.max_failures = max_failures
        self.window = window
        self.block = block
        self.clock = clock
        self.max_clients = max_clients
        self._failures: OrderedDict[str, deque] = OrderedDict()
        self._blocked: OrderedDict[str, float] = OrderedDict()
        self._in_flight: dict[str, dict[bytes, int]] = {}

    def blocked_for(self, client: str) -> float:
        """Seconds the client stays blocked; 0 when it may try."""
        until = self._blocked.get(client)
        if until is None:
            return 0
        left = until - self.clock()
        if left <= 0:
            del self._blocked[client]
            return 0
        return left

    def begin(self, client: str, attempt: bytes) -> float:
        """Start an attempt (``attempt`` identifies the credentials). Returns 0 when it may go
        on, else the seconds to wait (the attempt is then not started)."""
        blocked = self.blocked_for(client)
        if blocked:
            return blocked
        flying = self._in_flight.setdefault(client, {})
        if attempt not in flying:
            if len(flying) + self._recent_failures(client) >= self.max_failures:
                if not flying:
                    del self._in_flight[client]
                return self.block
        flying[attempt] = flying.get(attempt, 0) + 1
        return 0

    def end(self, client: str, attempt: bytes, ok: bool) -> None:
        """The verdict of an attempt started with ``begin``; a shared attempt counts once."""
        flying = self._in_flight.get(client, {})
        count = flying.get(attempt, 0)
        if count > 1:
            flying[attempt] = count - 1
            return
        flying.pop(attempt, None)
        if not flying:
            self._in_flight.pop(client, None)
        if count and not ok:
            self.failed(client)

    def failed(self, client: str) -> None:
        now = self.clock()
        times = self._failures.pop(client, None) or deque()
        times.append(now)
        self._trim(times, now)
        if len(times) >= self.max_failures:
            self._blocked[client] = now + self.block
            self._blocked.move_to_end(client)
            self._forget_oldest(self._blocked)
        else:
            self._failures[client] = times
            self._forget_oldest(self._failures)

    def _recent_failures(self, client: str) -> int:
        times = self._failures.get(client)
        if not times:
            return 0
        self._trim(times, self.clock())
        return len(times)

    def _trim(self, times: deque, now: float) -> None:
        while times and times[0] <= now - self.window:
            times.popleft()

    def _forget_oldest(self, table: OrderedDict) -> None:
        while len(table) > self.max_clients:
            table.popitem(last=False)
