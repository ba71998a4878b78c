"""Running a job's body under a deadline without giving it the executor thread.

The body runs in a daemon thread of its own; the executor (pool) thread waits for it.  When the
deadline passes, or someone asks the run to stop, the body's stop event is set (shell jobs kill
their process group on it, Python jobs poll ``should_stop()``) and the body gets ``grace`` more
seconds.  A body that still runs after that is abandoned: the pool thread goes back to work and
the run is recorded, while the body's thread finishes (or not) on its own, its result ignored.
A stop at server shutdown is not handled here: the shutdown has its own grace period.

The body threads are reused (``BodyThreads``): starting a thread for every run cost a quarter
of a millisecond, a tenth of what an instant job's whole run costs.  Each body runs in a fresh
``contextvars`` context; thread-local values a body leaves behind are seen by the next body of
that thread, as in any thread pool.
"""
from __future__ import annotations

import contextvars
import queue
import threading
import time
from dataclasses import dataclass
from typing import Callable

STOP_GRACE = 5.0        # seconds a body gets between the stop signal and being abandoned
POLL_INTERVAL = 1.0     # seconds between two looks at ``stop_requested``
# a job that enforces the same limit itself (the shell jobs) gets to report it first
SLACK = 0.5
IDLE_FOR = 60.0         # seconds an idle body thread waits for another body before it ends


class BodyThreads:
    """Daemon threads that run bodies one after another.  A thread whose body was abandoned
    is busy until that body ends (if ever): a new body then gets another thread."""

    def __init__(self, idle_for: float = IDLE_FOR):
        self.idle_for = idle_for
        self._idle: list[_BodyThread] = []
        self._lock = threading.Lock()

    def start(self, target: Callable[[], None], name: str) -> None:
        """Run ``target`` (which must not raise) in an idle thread, or a new one."""
        with self._lock:
            thread = self._idle.pop() if self._idle else None
        if thread is None:
            thread = _BodyThread(self)
            thread.give(target, name)
            thread.start()
        else:
            thread.give(target, name)

    def idle_count(self) -> int:
        with self._lock:
            return len(self._idle)

    def _back(self, thread: _BodyThread) -> None:
        with self._lock:
            self._idle.append(thread)

    def _retire(self, thread: _BodyThread) -> bool:
        """Whether an idle thread may end: False when a body was just handed to it."""
        with self._lock:
            if thread in self._idle:
                self._idle.remove(thread)
                return True
            return False


class _BodyThread(threading.Thread):
    IDLE_NAME = "job-body-idle"

    def __init__(self, pool: BodyThreads):
        super().__init__(name=self.IDLE_NAME, daemon=True)
        self.pool = pool
        self.bodies: queue.SimpleQueue = queue.SimpleQueue()

    def give(self, target: Callable[[], None], name: str) -> None:
        self.bodies.put((target, name))

    def run(self) -> None:
        while True:
            try:
                target, name = self.bodies.get(timeout=self.pool.idle_for)
            except queue.Empty:
                if self.pool._retire(self):
                    return
                continue        # a body was handed over meanwhile: it is in the queue
            self.name = name
            contextvars.Context().run(target)
            self.name = self.IDLE_NAME
            self.pool._back(self)


_SHARED = BodyThreads()


@dataclass
class BodyEnd:
    value: object = None
    error: BaseException | None = None
    timed_out: bool = False     # the deadline passed while the body ran
    stopped: bool = False       # someone asked this run to stop
    abandoned: bool = False     # the body ignored the stop signal and still runs


def run_with_deadline(body: Callable[[], object], stop_event: threading.Event,
                      timeout: float | None, stop_requested: Callable[[], bool] = lambda: False,
                      grace: float = STOP_GRACE, name: str = "job-body",
                      threads: BodyThreads | None = None) -> BodyEnd:
    """Run ``body`` in one of ``threads`` (default: a pool shared by the process)."""
    end = BodyEnd()
    done = threading.Event()

    def target():
        try:
            end.value = body()
        except BaseException as exc:   # handed to the pool thread, which reports it
            end.error = exc
        finally:
            done.set()

    started = time.monotonic()
    (threads or _SHARED).start(target, name)
    deadline = started + timeout + SLACK if timeout else None
    while not done.is_set():
        wait = POLL_INTERVAL if deadline is None else min(POLL_INTERVAL,
                                                          deadline - time.monotonic())
        if done.wait(max(wait, 0)):
            break
        if deadline is not None and time.monotonic() >= deadline:
            end.timed_out = True
        elif stop_requested():
            end.stopped = True
        else:
            continue
        stop_event.set()
        end.abandoned = not done.wait(grace)
        break
    return end
