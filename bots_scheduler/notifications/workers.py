"""One worker thread and queue per profile, so that a dead receiver for one profile never
delays another's.  Used by the e-mail notifier and the alert sender."""
from __future__ import annotations

import logging
import queue
import threading
import time
from typing import Any, Callable

log = logging.getLogger(__name__)


class ProfileWorkers:
    def __init__(self, profiles: dict[str, Any], deliver: Callable[[Any, Any], None],
                 thread_prefix: str, what: str):
        """``deliver(profile, item)`` runs in the profile's thread; ``what`` names the
        subsystem in log lines; thread names are ``thread_prefix`` + the profile's name."""
        self._threads = {name: _Worker(f"{thread_prefix}{name}", profile, deliver, what)
                         for name, profile in profiles.items()}

    def start(self) -> None:
        for thread in self._threads.values():
            thread.start()

    def put(self, name: str, item: Any) -> None:
        self._threads[name].queue.put(item)

    def stop(self, timeout: float) -> None:
        """What is queued is still handed over; waits ``timeout`` seconds in all."""
        for thread in self._threads.values():
            thread.queue.put(None)
        deadline = time.monotonic() + timeout
        for thread in self._threads.values():
            if thread.is_alive():
                thread.join(max(deadline - time.monotonic(), 0))


class _Worker(threading.Thread):
    def __init__(self, name: str, profile: Any, deliver: Callable[[Any, Any], None], what: str):
        super().__init__(name=name, daemon=True)
        self.profile = profile
        self.deliver = deliver
        self.what = what
        self.queue: queue.Queue[Any] = queue.Queue()

    def run(self) -> None:
        while (item := self.queue.get()) is not None:
            try:
                self.deliver(self.profile, item)
            except Exception:
                log.exception("%s: profile %s: delivery crashed", self.what, self.profile.name)
