"""The Job object of the REST API: validation of request bodies, and the view of a stored job."""
from __future__ import annotations

import unicodedata
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bots_scheduler.datafiles.validation import DataFileError, check_name
from bots_scheduler.errors import InvalidInput
from bots_scheduler.scheduling.triggers import CronTrigger
from bots_scheduler.secrets.arguments import mask

CRON_FIELDS = ("second", "minute", "hour", "day", "week", "day_of_week", "month")
API_CRON_FIELDS = ("month", "week", "day", "day_of_week", "hour", "minute")
# extra per-job options carried in the APScheduler job's kwargs (None: the server's default)
OPTION_FIELDS = {"notify_changes": (bool, type(None)),
                 "timeout": (int, float, type(None)),       # seconds; None: --job-timeout
                 "retries": (int, type(None)),              # further attempts after a failure
                 "retry_delay": (int, float, type(None)),   # seconds between attempts
                 # alert profiles told of this job's runs (None: those of --alert-profile)
                 "alert_profiles": (list, type(None))}
# inclusive bounds of the numeric options
OPTION_LIMITS = {"timeout": (1, 7 * 24 * 3600), "retries": (0, 10),
                 "retry_delay": (0, 24 * 3600)}
MAX_NAME = 255
MAX_ARGS = 100
MAX_ALERT_PROFILES = 20


class InvalidJob(InvalidInput):
    """A request body that does not describe a valid job."""


def _cron_value(body: dict, name: str, current: dict | None) -> str:
    default = "0" if name == "second" else "*"
    value = body.get(name, current.get(name, default) if current else default)
    if value is None or (isinstance(value, str) and not value.strip()):
        value = default
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise InvalidJob(f"{name} must be a cron field string such as '*/5', not {value!r}")
    return str(value).strip()


def build_trigger(fields: dict, tz_name: str) -> CronTrigger:
    try:
        tz = ZoneInfo(tz_name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidJob(f"timezone: unknown time zone {tz_name!r}") from None
    try:
        return CronTrigger(**{name: fields[name] for name in CRON_FIELDS}, timezone=tz)
    except (ValueError, TypeError) as exc:
        error = exc
    # only now, one field at a time: which field is wrong (one construction per valid job)
    for name in CRON_FIELDS:
        try:
            CronTrigger(**{name: fields[name]}, timezone=tz)
        except (ValueError, TypeError) as exc:
            raise InvalidJob(f"{name}: invalid cron field {fields[name]!r}: {exc}") from None
    raise InvalidJob(f"invalid schedule: {error}")


def parse_job_body(body, registry, default_tz: str, current: dict | None = None) -> dict:
    """Validate a POST/PUT body; ``current`` (the stored job) supplies fields a PUT leaves out."""
    if not isinstance(body, dict):
        raise InvalidJob("the request body must be a JSON object")
    current = current or {}
    job_class_string = body.get("job_class_string", current.get("job_class_string"))
    if not isinstance(job_class_string, str) or not job_class_string.strip():
        raise InvalidJob("job_class_string is required (a string such as 'module.ClassName')")
    klass = registry.get(job_class_string)
    if klass is None:
        raise InvalidJob(f"job_class_string: unknown job class {job_class_string!r} "
                         f"(GET /api/v1/jobclasses lists them)")
    if not klass.is_enabled():
        raise InvalidJob(f"job_class_string: job class {job_class_string!r} is disabled")
    name = body.get("name", current.get("name"))
    if not isinstance(name, str) or not name.strip():
        raise InvalidJob("name is required (a non-empty string)")
    if len(name) > MAX_NAME:
        raise InvalidJob(f"name is longer than {MAX_NAME} characters")
    check_one_line("name", name)
    pub_args = body.get("pub_args", current.get("pub_args", []))
    if pub_args is None:
        pub_args = []
    if not isinstance(pub_args, list):
        raise InvalidJob("pub_args must be a JSON list of arguments")
    if len(pub_args) > MAX_ARGS:
        raise InvalidJob(f"pub_args has more than {MAX_ARGS} arguments")
    check_file_arguments(klass, pub_args)
    tz_name = body.get("timezone", current.get("timezone")) or default_tz
    if not isinstance(tz_name, str):
        raise InvalidJob("timezone must be an IANA zone name such as 'Europe/Brussels'")
    fields = {name_: _cron_value(body, name_, current) for name_ in CRON_FIELDS}
    trigger = build_trigger(fields, tz_name)
    options = dict(current.get("options", {}))
    for key in OPTION_FIELDS:
        if key in body:
            options[key] = option_value(key, body[key])
    return {"job_class_string": job_class_string, "name": name.strip(), "pub_args": pub_args,
            "timezone": tz_name, "fields": fields, "trigger": trigger, "options": options}


def check_one_line(what: str, text: str) -> None:
    """A name is one line of visible text: a CR/LF would, for instance, end an e-mail's
    Subject header early (the job's e-mails then stop); other control characters hide text."""
    for char in text:
        if char in "\r\n\u2028\u2029\x85":
            raise InvalidJob(f"{what} must be one line (no line breaks)")
        if unicodedata.category(char) == "Cc":
            raise InvalidJob(f"{what} contains the control character U+{ord(char):04X}")


def check_file_arguments(klass, pub_args: list) -> None:
    """Arguments a job class declares as ``'type': 'file'`` must be names the Files API would
    accept (an extension of the data files, no hidden or lock files, no traversal): a job cannot
    be pointed at the datastore or at a file the Files API never shows. Secret references and
    non-strings are left to the run (which fails them with a report)."""
    specs = klass.meta_info().get("arguments") or []
    for index, spec in enumerate(specs):
        if index >= len(pub_args) or not isinstance(spec, dict) or spec.get("type") != "file":
            continue
        value = pub_args[index]
        if not isinstance(value, str):
            continue
        try:
            check_name(value)
        except DataFileError as exc:
            raise InvalidJob(f"pub_args[{index}] (a data file): {exc.message}") from None


def option_value(key: str, value):
    """A per-job option checked against its type and bounds (InvalidJob otherwise)."""
    if value is None:
        return None
    if key == "alert_profiles":
        if not isinstance(value, list) or len(value) > MAX_ALERT_PROFILES or not all(
                isinstance(name, str) and 0 < len(name.strip()) <= 100 for name in value):
            raise InvalidJob(f"alert_profiles must be a list of at most {MAX_ALERT_PROFILES} "
                             f"profile names (sections of the alert configuration), or null "
                             f"(the server's --alert-profile)")
        return [name.strip() for name in dict.fromkeys(value)]
    if key not in OPTION_LIMITS:
        if not isinstance(value, OPTION_FIELDS[key]):
            raise InvalidJob(f"{key} must be true, false or null")
        return value
    low, high = OPTION_LIMITS[key]
    kind = "a whole number" if int in OPTION_FIELDS[key] and float not in OPTION_FIELDS[key] \
        else "a number of seconds"
    if isinstance(value, bool) or not isinstance(value, OPTION_FIELDS[key]) \
            or not low <= value <= high:
        raise InvalidJob(f"{key} must be {kind} from {low} to {high}, or null (the default)")
    return value


def trigger_fields(trigger: CronTrigger) -> dict:
    return {field.name: str(field) for field in trigger.fields if field.name in CRON_FIELDS}


def job_view(job, secret_positions=()) -> dict:
    """The API's Job object for an APScheduler job; the plain values of the arguments at
    ``secret_positions`` (declared ``'type': 'secret'``) are shown as a mask."""
    job_class_string, job_id, *pub_args = job.args
    if secret_positions:
        pub_args = mask(pub_args, secret_positions)
    fields = trigger_fields(job.trigger)
    next_run: datetime | None = job.next_run_time
    view = {
        "job_id": job.id,
        "name": job.name,
        "job_class_string": job_class_string,
        "pub_args": list(pub_args),
        **{name: fields.get(name, "*") for name in API_CRON_FIELDS},
        "second": fields.get("second", "0"),
        "timezone": str(job.trigger.timezone),
        "next_run_time": next_run.isoformat() if next_run else "",
        "paused": next_run is None,
    }
    view.update({key: job.kwargs.get(key) for key in OPTION_FIELDS})
    return view


def describe_changes(old: dict, new: dict) -> str:
    """A readable diff of two Job views, for the audit log."""
    keys = ("name", "job_class_string", "pub_args", *API_CRON_FIELDS, "second", "timezone",
            *OPTION_FIELDS)
    changes = [f"{key}: {old.get(key)!r} → {new.get(key)!r}" for key in keys
               if old.get(key) != new.get(key)]
    return "; ".join(changes) if changes else "no change"
