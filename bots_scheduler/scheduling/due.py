"""When each scheduled firing was due, so that its execution records that time, not the start.

APScheduler tells listeners which run times it hands to the executor (``EVENT_JOB_SUBMITTED``)
and which of them it later skips as too late (``EVENT_JOB_MISSED``); every other one becomes a
call of ``fire``, in submission order.  The runner takes the oldest due time of the job when a
scheduled firing starts; the difference is the scheduler's lag.
"""
from __future__ import annotations

import threading
from collections import defaultdict, deque
from datetime import datetime

from apscheduler.events import EVENT_JOB_MISSED, EVENT_JOB_SUBMITTED

EVENTS = EVENT_JOB_SUBMITTED | EVENT_JOB_MISSED
MAX_PENDING = 100       # per job; more means firings are being lost, not queued


class DueTimes:
    def __init__(self, jobstore: str = "default"):
        self.jobstore = jobstore
        self._due: dict[str, deque] = defaultdict(lambda: deque(maxlen=MAX_PENDING))
        self._lock = threading.Lock()

    def listener(self, event) -> None:
        if getattr(event, "jobstore", None) != self.jobstore:
            return
        with self._lock:
            pending = self._due[event.job_id]
            if event.code == EVENT_JOB_SUBMITTED:
                pending.extend(event.scheduled_run_times)
            elif event.code == EVENT_JOB_MISSED and event.scheduled_run_time in pending:
                pending.remove(event.scheduled_run_time)

    def pop(self, job_id: str) -> datetime | None:
        with self._lock:
            pending = self._due.get(job_id)
            if not pending:
                return None
            due = pending.popleft()
            if not pending:
                del self._due[job_id]
            return due
