"""Reading a job that ndscheduler 0.3 stored: APScheduler 3.0's pickled job state.

ndscheduler keeps its jobs in APScheduler 3.0's SQLAlchemy job store: one row per job, whose
``job_state`` column is ``pickle.dumps(Job.__getstate__())``.  Unpickling a value from another
database with ``pickle.loads`` would run whatever that value names, so the state is read by an
Unpickler whose ``find_class`` admits exactly the names such a state holds (the cron trigger,
its fields and expressions, ``datetime`` and pytz's time zones), and maps each of them to a
stand-in of ours that only records what it is given: no class or function of APScheduler or
pytz is imported or called, and a row that names anything else is refused.

The state (APScheduler 3.0, ``Job.__getstate__``): ``version`` 1, ``id``, ``func`` (a text
reference: ndscheduler's ``SingletonScheduler.run_job``), ``trigger``, ``executor``, ``args``
(the class string, the job id, then the job's ``pub_args``), ``kwargs``, ``name``,
``misfire_grace_time``, ``coalesce``, ``max_instances`` and ``next_run_time`` (None while the
job is paused).
"""
from __future__ import annotations

import io
import pickle
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

MAX_STATE_BYTES = 1 << 20        # a real job state is about a kilobyte
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
POSITIONS = ("1st", "2nd", "3rd", "4th", "5th", "last")
CRON_NAMES = ("year", "month", "day", "week", "day_of_week", "hour", "minute", "second")
# the fields our jobs have (jobspec.CRON_FIELDS): APScheduler 3.0's without the year
OUR_FIELDS = ("second", "minute", "hour", "day", "week", "day_of_week", "month")
FIELD_LIMITS = {"month": (1, 12), "day": (1, 31), "week": (1, 53), "day_of_week": (0, 6),
                "hour": (0, 23), "minute": (0, 59), "second": (0, 59), "year": (1970, 9999)}
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+$")


class UnreadableJob(ValueError):
    """A stored job that cannot be read or has no equivalent here: reported, then skipped."""


# -- stand-ins for the names a job state holds ------------------------------------------------

class _Recorded:
    """Takes the state pickle hands to the object (a dict, or APScheduler's slots pair)."""

    def __setstate__(self, state):
        if isinstance(state, tuple) and len(state) == 2:     # (dict or None, slots dict or None)
            merged = {}
            for part in state:
                if part is not None and not isinstance(part, dict):
                    raise UnreadableJob(f"{type(self).__name__}: unexpected state")
                merged.update(part or {})
            state = merged
        if not isinstance(state, dict):
            raise UnreadableJob(f"{type(self).__name__}: unexpected state")
        self.state = state

    def get(self, key, default=None):
        return getattr(self, "state", {}).get(key, default)


class _Trigger(_Recorded):
    pass


class _Field(_Recorded):
    pass


class _All(_Recorded):
    def text(self, name: str) -> str:
        step = _number(self.get("step"), name, allow_none=True, low=1, high=10_000)
        return f"*/{step}" if step else "*"


class _Range(_Recorded):
    def text(self, name: str) -> str:
        low, high = FIELD_LIMITS[name]
        first = _number(self.get("first"), name, low=low, high=high)
        last = _number(self.get("last"), name, allow_none=True, low=low, high=high)
        step = _number(self.get("step"), name, allow_none=True, low=1, high=10_000)
        text = f"{first}-{last}" if last is not None and last != first else str(first)
        return f"{text}/{step}" if step else text


class _WeekdayRange(_Recorded):
    def text(self, name: str) -> str:
        first = _number(self.get("first"), name, low=0, high=6)
        last = _number(self.get("last"), name, allow_none=True, low=0, high=6)
        if last is not None and last != first:
            return f"{WEEKDAYS[first]}-{WEEKDAYS[last]}"
        return WEEKDAYS[first]


class _WeekdayPosition(_Recorded):
    def text(self, name: str) -> str:
        option = _number(self.get("option_num"), name, low=0, high=len(POSITIONS) - 1)
        weekday = _number(self.get("weekday"), name, low=0, high=6)
        return f"{POSITIONS[option]} {WEEKDAYS[weekday]}"


class _LastDay(_Recorded):
    def text(self, name: str) -> str:
        return "last"


def _pytz_zone(zone, *_offsets):
    """pytz pickles a zone as ``pytz._p(zone, utcoffset, dst, tzname)``: its name is enough."""
    if not isinstance(zone, str):
        raise UnreadableJob("time zone: not a zone name")
    try:
        return ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise UnreadableJob(f"unknown time zone {zone!r}") from None


def _pytz_utc():
    return timezone.utc


ALLOWED = {
    ("apscheduler.triggers.cron", "CronTrigger"): _Trigger,
    ("apscheduler.triggers.cron.fields", "BaseField"): _Field,
    ("apscheduler.triggers.cron.fields", "WeekField"): _Field,
    ("apscheduler.triggers.cron.fields", "DayOfMonthField"): _Field,
    ("apscheduler.triggers.cron.fields", "DayOfWeekField"): _Field,
    ("apscheduler.triggers.cron.expressions", "AllExpression"): _All,
    ("apscheduler.triggers.cron.expressions", "RangeExpression"): _Range,
    ("apscheduler.triggers.cron.expressions", "WeekdayRangeExpression"): _WeekdayRange,
    ("apscheduler.triggers.cron.expressions", "WeekdayPositionExpression"): _WeekdayPosition,
    ("apscheduler.triggers.cron.expressions", "LastDayOfMonthExpression"): _LastDay,
    ("datetime", "datetime"): datetime,       # built from its pickled bytes; runs nothing else
    ("pytz", "_p"): _pytz_zone,
    ("pytz", "_UTC"): _pytz_utc,
}


class _Unpickler(pickle.Unpickler):
    def find_class(self, module, name):
        try:
            return ALLOWED[(module, name)]
        except KeyError:
            raise UnreadableJob(f"the stored state names {module}.{name}, which a job state "
                                f"does not need; not read") from None

    def persistent_load(self, pid):
        raise UnreadableJob("the stored state uses persistent ids; not read")


def load_state(blob) -> dict:
    """The job state dict of a ``job_state`` value, read with the allow-list only."""
    if isinstance(blob, memoryview):
        blob = blob.tobytes()
    if not isinstance(blob, (bytes, bytearray)):
        raise UnreadableJob("job_state is not binary data")
    if len(blob) > MAX_STATE_BYTES:
        raise UnreadableJob(f"job_state is larger than {MAX_STATE_BYTES} bytes")
    try:
        # latin1: datetimes pickled by Python 2 carry their bytes as a str
        state = _Unpickler(io.BytesIO(bytes(blob)), encoding="latin1").load()
    except UnreadableJob:
        raise
    except Exception as exc:    # a truncated or malformed pickle: any of pickle's errors
        raise UnreadableJob(f"job_state cannot be read ({type(exc).__name__})") from None
    if not isinstance(state, dict):
        raise UnreadableJob("job_state is not a job state")
    return state


# -- from the state to a job of ours ----------------------------------------------------------

@dataclass
class LegacyJob:
    job_id: str
    name: str
    job_class_string: str            # as stored (the original's ``jobs.<module>.<Class>`` too)
    pub_args: list
    fields: dict                     # our cron fields (OUR_FIELDS) as strings
    timezone: str
    paused: bool
    notes: list = field(default_factory=list)


def read_job(row_id, blob) -> LegacyJob:
    state = load_state(blob)
    version = state.get("version")
    if version != 1:
        raise UnreadableJob(f"job state version {version!r} (APScheduler 3.0 writes 1)")
    job_id = state.get("id")
    if not isinstance(job_id, str) or job_id != row_id:
        raise UnreadableJob("the stored job id does not match the row's id")
    func = state.get("func")
    if not isinstance(func, str) or not func.endswith("run_job"):
        raise UnreadableJob(f"not an ndscheduler job (function {func!r})")
    args = state.get("args")
    if not isinstance(args, (tuple, list)) or len(args) < 2:
        raise UnreadableJob("its arguments are not (class string, job id, pub_args...)")
    class_string, args_id, *pub_args = args
    if not isinstance(class_string, str) or not _NAME.match(class_string):
        raise UnreadableJob(f"job class string {class_string!r} is not a dotted name")
    if args_id != job_id:
        raise UnreadableJob("its arguments name another job id")
    for value in pub_args:
        _check_json(value)
    name = state.get("name")
    if not isinstance(name, str):
        raise UnreadableJob("the job has no name")
    trigger = state.get("trigger")
    if not isinstance(trigger, _Trigger):
        raise UnreadableJob("the job's trigger is not a cron trigger")
    fields, zone = read_trigger(trigger)
    next_run_time = state.get("next_run_time")
    if next_run_time is not None and not isinstance(next_run_time, datetime):
        raise UnreadableJob("next_run_time is not a time")
    return LegacyJob(job_id=job_id, name=name, job_class_string=class_string,
                     pub_args=list(pub_args), fields=fields, timezone=zone,
                     paused=next_run_time is None)


def read_trigger(trigger: _Trigger) -> tuple[dict, str]:
    zone = trigger.get("timezone")
    if zone is timezone.utc:
        zone_name = "UTC"
    elif isinstance(zone, ZoneInfo):
        zone_name = zone.key
    else:
        raise UnreadableJob("the trigger's time zone cannot be read")
    for bound in ("start_date", "end_date"):
        if trigger.get(bound) is not None:
            raise UnreadableJob(f"the trigger has a {bound}, which jobs here do not have")
    stored = trigger.get("fields")
    if not isinstance(stored, list):
        raise UnreadableJob("the trigger has no cron fields")
    texts = {}
    for item in stored:
        if not isinstance(item, _Field):
            raise UnreadableJob("a cron field cannot be read")
        name = item.get("name")
        if name not in CRON_NAMES or name in texts:
            raise UnreadableJob(f"unknown cron field {name!r}")
        expressions = item.get("expressions")
        if not isinstance(expressions, list) or not expressions:
            raise UnreadableJob(f"cron field {name} has no expression")
        parts = []
        for expression in expressions:
            if not isinstance(expression, (_All, _Range, _WeekdayRange, _WeekdayPosition,
                                           _LastDay)):
                raise UnreadableJob(f"cron field {name}: unknown expression")
            if isinstance(expression, (_WeekdayRange,)) and name != "day_of_week":
                raise UnreadableJob(f"cron field {name}: weekday names outside day_of_week")
            if isinstance(expression, (_WeekdayPosition, _LastDay)) and name != "day":
                raise UnreadableJob(f"cron field {name}: day positions outside day")
            parts.append(expression.text(name))
        texts[name] = ",".join(parts)
    if texts.get("year", "*") != "*":
        raise UnreadableJob(f"the trigger fires in given years only ({texts['year']}), which "
                            f"cron fields here cannot say")
    fields = {name: texts.get(name, "0" if name == "second" else "*") for name in OUR_FIELDS}
    return fields, zone_name


def _number(value, name: str, low: int, high: int, allow_none: bool = False):
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise UnreadableJob(f"cron field {name}: value {value!r} out of range")
    return value


def _check_json(value, depth: int = 0) -> None:
    """pub_args reach jobs as JSON values: anything else (a pickled object) is refused."""
    if depth > 20:
        raise UnreadableJob("pub_args are nested too deeply")
    if value is None or isinstance(value, (str, bool, int, float)):
        return
    if isinstance(value, (list, tuple)):
        for item in value:
            _check_json(item, depth + 1)
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise UnreadableJob("pub_args hold a mapping with non-text keys")
            _check_json(item, depth + 1)
        return
    raise UnreadableJob(f"pub_args hold a {type(value).__name__}, not a JSON value")
