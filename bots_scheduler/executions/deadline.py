"""Running a job's body under a deadline without giving it the executor thread.

The body runs in a daemon thread of its own; the executor (pool) thread waits for it.  When the
deadline passes, or someone asks the run to stop, the body's stop event is set (shell jobs kill
their process group on it, Python jobs poll ``should_stop()``) and the body gets ``grace`` more
seconds.  A body that still runs after that is abandoned: the pool thread goes back to work and
the run is recorded, while the body's thread finishes (or not) on its own, its result ignored.
A stop at server shutdown is not handled here: the shutdown has its own grace period.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Callable

STOP_GRACE = 5.0        # seconds a body gets between the stop signal and being abandoned
POLL_INTERVAL = 1.0     # seconds between two looks at ``stop_requested``
# a job that enforces the same limit itself (the shell jobs) gets to report it first
SLACK = 0.5


@dataclass
class BodyEnd:
    value: object = None
    error: BaseException | None = None
    timed_out: bool = False     # the deadline passed while the body ran
    stopped: bool = False       # someone asked this run to stop
    abandoned: bool = False     # the body ignored the stop signal and still runs


def run_with_deadline(body: Callable[[], object], stop_event: threading.Event,
                      timeout: float | None, stop_requested: Callable[[], bool] = lambda: False,
                      grace: float = STOP_GRACE, name: str = "job-body") -> BodyEnd:
    end = BodyEnd()
    done = threading.Event()

    def target():
        try:
            end.value = body()
        except BaseException as exc:   # handed to the pool thread, which reports it
            end.error = exc
        finally:
            done.set()

    thread = threading.Thread(target=target, name=name, daemon=True)
    started = time.monotonic()
    thread.start()
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
