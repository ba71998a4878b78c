"""The cron trigger of Bots Scheduler: APScheduler's, with cron's rule for the repeated hour.

When clocks go back, a wall-clock time such as 02:30 happens twice.  APScheduler fires at both;
cron runs a job with fixed hours once (at the first), and a job whose hour field is a wildcard at
every real hour.  On the spring-forward day APScheduler already runs a job due in the skipped hour
right after the jump, so no day is skipped.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from apscheduler.triggers.cron import CronTrigger as _ApsCronTrigger

_WILDCARD_HOURS = {"*", "*/1"}


class CronTrigger(_ApsCronTrigger):
    def get_next_fire_time(self, previous_fire_time, now):
        candidate = super().get_next_fire_time(previous_fire_time, now)
        if candidate is None or not self._in_repeated_hour(candidate):
            return candidate
        if self._hour_expression() in _WILDCARD_HOURS:
            return candidate
        # skip what is left of the repeated hour (its wall times already fired), minute by
        # minute in UTC: wall-clock arithmetic on an aware datetime would drop the fold
        after = candidate
        while self._in_repeated_hour(after):
            after = (after.astimezone(timezone.utc)
                     + timedelta(minutes=1)).astimezone(self.timezone)
        after = after.replace(second=0, microsecond=0)
        return super().get_next_fire_time(None, after)

    def _in_repeated_hour(self, moment: datetime) -> bool:
        """True for the second occurrence of a wall-clock time that happens twice."""
        wall = moment.replace(tzinfo=None)
        first = wall.replace(fold=0, tzinfo=self.timezone)
        second = wall.replace(fold=1, tzinfo=self.timezone)
        return (first.utcoffset() != second.utcoffset()
                and moment.utcoffset() == second.utcoffset())

    def _hour_expression(self) -> str:
        return next(str(field) for field in self.fields if field.name == "hour")
