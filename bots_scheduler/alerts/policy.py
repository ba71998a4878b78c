"""Which events of a run a profile hears about (CONTRACT §8).

- ``new-findings``, ``changed-findings``, ``gone-findings``: a succeeded run recorded some.
- ``failure``: the run ended failed or timeout after its last attempt (retries: once per run),
  and it is at least the profile's ``after_failures``-th failed run of the job in a row.
- ``recovery``: a succeeded run after failed ones (as many as ``after_failures``: a profile
  never told of the failure is not told of the recovery).
- ``every-run``: every run's end.

Stopped runs are neither failures nor successes: looking back, they are skipped.
"""
from __future__ import annotations

from dataclasses import dataclass

FAILURE_STATES = ("failed", "timeout")


@dataclass(frozen=True)
class RunStreak:
    """The run's place among the job's previous runs (newest first, last attempts only)."""
    failures: int = 0            # failed runs in a row, this one included
    failures_before: int = 0     # failed runs in a row just before this one


def streak_of(state: str, earlier_states) -> RunStreak:
    """``earlier_states``: the final states of the job's earlier runs, newest first."""
    before = 0
    for earlier in earlier_states:
        if earlier in ("stopped", "stopping", "running", "scheduled"):
            continue
        if earlier not in FAILURE_STATES:
            break
        before += 1
    return RunStreak(before + 1 if state in FAILURE_STATES else 0, before)


def triggered(profile, state: str, recorded, streak: RunStreak) -> frozenset[str]:
    events = set()
    wanted = profile.events
    if "every-run" in wanted:
        events.add("every-run")
    if state in FAILURE_STATES:
        if "failure" in wanted and streak.failures >= profile.after_failures:
            events.add("failure")
    elif state == "succeeded":
        if "recovery" in wanted and streak.failures_before >= profile.after_failures:
            events.add("recovery")
        counts = recorded.counts if recorded is not None else None
        if counts is not None:
            for event, count in (("new-findings", counts.new),
                                 ("changed-findings", counts.changed),
                                 ("gone-findings", counts.gone)):
                if event in wanted and count:
                    events.add(event)
    return frozenset(events)
