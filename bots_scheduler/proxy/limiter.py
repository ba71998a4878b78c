"""Brute-force limiting: too many failed logins from one client address block it for a while."""
from __future__ import annotations

import time
from collections import OrderedDict, deque


class FailureLimiter:
    """``max_failures`` failures within ``window`` seconds block the client for ``block`` seconds.

    Only the event loop of the proxy calls it, so it needs no lock. Memory stays bounded: the
    least recently seen addresses are forgotten beyond ``max_clients``.
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

    def failed(self, client: str) -> None:
        now = self.clock()
        times = self._failures.pop(client, None) or deque()
        times.append(now)
        while times and times[0] <= now - self.window:
            times.popleft()
        if len(times) >= self.max_failures:
            self._blocked[client] = now + self.block
            self._blocked.move_to_end(client)
            self._forget_oldest(self._blocked)
        else:
            self._failures[client] = times
            self._forget_oldest(self._failures)

    def _forget_oldest(self, table: OrderedDict) -> None:
        while len(table) > self.max_clients:
            table.popitem(last=False)
