"""The jobs table: APScheduler's SQLAlchemy job store, made to survive a database outage.

APScheduler 3 asks every job store for its next run time outside its error handling: one failed
query there ends the scheduler's thread for good.  Here a failure answers "try again shortly".
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone

from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from sqlalchemy.exc import SQLAlchemyError

log = logging.getLogger(__name__)

RETRY_AFTER = timedelta(seconds=5)


class ResilientJobStore(SQLAlchemyJobStore):
    def get_next_run_time(self):
        try:
            return super().get_next_run_time()
        except SQLAlchemyError as exc:
            log.warning("cannot read the next run time from the jobs table (%s); retrying in "
                        "%ds", str(exc).splitlines()[0], RETRY_AFTER.total_seconds())
            return datetime.now(timezone.utc) + RETRY_AFTER
