"""The callable APScheduler stores with every job: ``bots_scheduler.scheduling.runner:fire``.

APScheduler pickles a textual reference to a job's callable and imports it again whenever it
reads the job back, so every jobs table ever written names this function: it must stay
importable here (tests/scheduling/test_stored_jobs.py opens a table written by an earlier
version).  It is never called: our executors (executors/base.py) read the job's arguments and
hand the run to ``executions.runner.Runner`` themselves.
"""
from __future__ import annotations

FIRE = "bots_scheduler.scheduling.runner:fire"


def fire(job_class_string: str, job_id: str, *pub_args, **options):
    raise RuntimeError(f"job {job_id}: {FIRE} is a stored name only; runs go through "
                       f"executors.base.FiringExecutor (was an executor other than ours used?)")
