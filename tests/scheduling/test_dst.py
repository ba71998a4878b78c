"""Schedules across daylight-saving changes in Europe/Brussels (2026-03-29 and 2026-10-25)."""
from __future__ import annotations

import itertools
from datetime import datetime
from zoneinfo import ZoneInfo

from bots_scheduler.scheduling.jobspec import build_trigger

BRUSSELS = ZoneInfo("Europe/Brussels")


def fire_times(count, start, **fields):
    cron = {"second": "0", "minute": "*", "hour": "*", "day": "*", "week": "*",
            "day_of_week": "*", "month": "*", **fields}
    trigger = build_trigger(cron, "Europe/Brussels")
    out, previous = [], None
    for _ in range(count):
        previous = trigger.get_next_fire_time(previous, previous or start)
        out.append(previous)
    return out


def utc_hours(times):
    return [t.astimezone(ZoneInfo("UTC")).strftime("%m-%d %H:%M") for t in times]


def test_a_daily_run_in_the_skipped_hour_runs_right_after_the_jump():
    times = fire_times(3, datetime(2026, 3, 28, 12, tzinfo=BRUSSELS), hour="2", minute="30")
    # 28 March 02:30 CET, 29 March (02:30 does not exist: 03:30 CEST), 30 March 02:30 CEST
    assert utc_hours(times) == ["03-29 01:30", "03-30 00:30", "03-31 00:30"]
    assert len({t.date() for t in times}) == 3


def test_a_daily_run_in_the_repeated_hour_runs_once():
    times = fire_times(3, datetime(2026, 10, 24, 12, tzinfo=BRUSSELS), hour="2", minute="30")
    assert utc_hours(times) == ["10-25 00:30", "10-26 01:30", "10-27 01:30"]


def test_an_hourly_run_runs_every_real_hour_when_clocks_go_back():
    # 02:30 CEST, 02:30 CET (the repeated hour), 03:30 CET, 04:30 CET
    times = fire_times(4, datetime(2026, 10, 25, 1, 45, tzinfo=BRUSSELS), minute="30")
    assert utc_hours(times) == ["10-25 00:30", "10-25 01:30", "10-25 02:30", "10-25 03:30"]


def test_an_hourly_run_keeps_one_hour_steps_across_the_missing_hour_in_spring():
    # 02:30 does not exist on 29 March: 03:30 CEST comes one real hour after 01:30 CET
    times = fire_times(3, datetime(2026, 3, 29, 1, 45, tzinfo=BRUSSELS), minute="30")
    assert utc_hours(times) == ["03-29 01:30", "03-29 02:30", "03-29 03:30"]


def test_schedules_never_loop_around_the_transitions():
    for start in (datetime(2026, 3, 29, 1, 59, tzinfo=BRUSSELS),
                  datetime(2026, 10, 25, 1, 59, tzinfo=BRUSSELS)):
        times = fire_times(200, start, second="*/30", minute="*", hour="1-3")
        steps = [b - a for a, b in itertools.pairwise(times)]
        assert all(step.total_seconds() > 0 for step in steps), times
