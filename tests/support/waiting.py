"""Polling for something that happens in another thread or process."""
from __future__ import annotations

import time


def wait_until(predicate, timeout: float = 20, interval: float = 0.1) -> bool:
    """Poll ``predicate()`` until it is true or ``timeout`` seconds have passed; its last value."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()
