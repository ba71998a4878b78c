"""Export and import of job definitions (``bots-scheduler export|import``, /api/v1/export|import).

The document (docs/operations.md describes it) is versioned::

    {"format": "bots-scheduler-jobs", "version": 1, "exported_at": "...", "jobs": [Job...]}

Import matches jobs by ``job_id``: a job that is not there is added with that id, one that
differs is modified (and paused or resumed), one that is the same is left alone, so importing the
same document twice changes nothing the second time.  Jobs of the scheduler that the document
does not name are kept.  Every job of the document is checked before anything changes.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timezone

from bots_scheduler.errors import InvalidInput
from bots_scheduler.scheduling import jobspec
from bots_scheduler.scheduling.jobspec import API_CRON_FIELDS, OPTION_FIELDS, InvalidJob
from bots_scheduler.scheduling.scheduler import JobNotFound
from bots_scheduler.secrets.arguments import mask, unmask

FORMAT = "bots-scheduler-jobs"
VERSION = 1
MAX_JOBS = 10000
JOB_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,191}$")
COMPARED = ("name", "job_class_string", "pub_args", "second", *API_CRON_FIELDS, "timezone",
            "paused", *OPTION_FIELDS)


class TransferError(InvalidInput):
    """A document that cannot be imported: HTTP 400, or one line and exit status 2."""


@dataclass
class Change:
    job_id: str
    name: str
    action: str                      # add | modify | unchanged
    changes: list[str] = field(default_factory=list)
    entry: dict = field(default_factory=dict, repr=False)

    def as_dict(self) -> dict:
        return {"job_id": self.job_id, "name": self.name, "action": self.action,
                "changes": self.changes}


# -- export --------------------------------------------------------------------------------------

def job_entry(view: dict) -> dict:
    return {"job_id": view["job_id"], **{key: view.get(key) for key in COMPARED}}


def export_jobs(scheduler) -> dict:
    jobs = sorted((job_entry(view) for view in scheduler.list_jobs()),
                  key=lambda job: (job["name"], job["job_id"]))
    return {"format": FORMAT, "version": VERSION,
            "exported_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "jobs": jobs}


# -- import --------------------------------------------------------------------------------------

def read_document(document) -> list[dict]:
    """The document's job entries, checked for shape (not yet against the job classes)."""
    if not isinstance(document, dict):
        raise TransferError("the document must be a JSON object made by bots-scheduler export")
    if document.get("format") != FORMAT:
        raise TransferError(f"format must be {FORMAT!r} (a document made by bots-scheduler "
                            f"export), not {document.get('format')!r}")
    version = document.get("version")
    if isinstance(version, bool) or not isinstance(version, int) or not 1 <= version <= VERSION:
        raise TransferError(f"version {version!r} is not supported: this server reads version "
                            f"{VERSION} (a newer Bots Scheduler may have written the file)")
    jobs = document.get("jobs")
    if not isinstance(jobs, list):
        raise TransferError("jobs must be a list of job objects")
    if len(jobs) > MAX_JOBS:
        raise TransferError(f"at most {MAX_JOBS} jobs can be imported at once")
    seen = set()
    for index, entry in enumerate(jobs):
        if not isinstance(entry, dict):
            raise TransferError(f"jobs[{index}] is not a job object")
        job_id = entry.get("job_id")
        if not isinstance(job_id, str) or not JOB_ID.match(job_id):
            raise TransferError(f"jobs[{index}]: job_id must be 1-191 letters, digits or "
                                f"_ . : -, not {job_id!r}")
        if job_id in seen:
            raise TransferError(f"jobs[{index}]: job_id {job_id!r} appears twice")
        seen.add(job_id)
        if "paused" in entry and not isinstance(entry["paused"], bool):
            raise TransferError(f"job {job_id}: paused must be true or false")
    return jobs


def normalise(entry: dict, scheduler, stored_args: list | None = None) -> dict:
    """The entry as the scheduler would store it (cron fields as the trigger prints them);
    its secret references checked, and a mask of a secret-typed argument accepted only where
    the job already has a value (``stored_args``)."""
    try:
        spec = jobspec.parse_job_body(entry, scheduler.registry, scheduler.settings.timezone)
        scheduler.checked_arguments(spec, stored_args)
    except InvalidJob as exc:
        raise TransferError(f"job {entry['job_id']}: {exc}") from None
    fields = jobspec.trigger_fields(spec["trigger"])
    return {"job_id": entry["job_id"], "name": spec["name"],
            "job_class_string": spec["job_class_string"], "pub_args": spec["pub_args"],
            "second": fields.get("second", "0"),
            **{name: fields.get(name, "*") for name in API_CRON_FIELDS},
            "timezone": spec["timezone"], "paused": bool(entry.get("paused", False)),
            **{key: spec["options"].get(key) for key in OPTION_FIELDS}}


def plan(document, scheduler) -> list[Change]:
    changes = []
    for entry in read_document(document):
        try:
            stored = scheduler.stored_arguments(entry["job_id"])
        except JobNotFound:
            stored = None
        new = normalise(entry, scheduler, stored)
        try:
            old = job_entry(scheduler.get_job(new["job_id"]))
        except JobNotFound:
            changes.append(Change(new["job_id"], new["name"], "add", [], new))
            continue
        # old is the masked view; new is compared and shown masked the same way, and a new
        # plain value behind an unchanged mask is named without being shown
        shown = dict(new, pub_args=mask(new["pub_args"],
                                        scheduler.secret_positions(new["job_class_string"])))
        differences = [f"{key}: {old.get(key)!r} → {shown.get(key)!r}" for key in COMPARED
                       if old.get(key) != shown.get(key)]
        if shown["pub_args"] == old["pub_args"] and unmask(
                new["pub_args"], stored, scheduler.secret_positions(new["job_class_string"])) \
                != stored:
            differences.append("pub_args: a secret-typed value changed")
        changes.append(Change(new["job_id"], new["name"],
                              "modify" if differences else "unchanged", differences, new))
    return changes


def import_jobs(document, scheduler, user: str, dry_run: bool = False) -> dict:
    changes = plan(document, scheduler)
    if not dry_run:
        for change in changes:
            apply(change, scheduler, user)
    counts = {action: sum(1 for c in changes if c.action == action)
              for action in ("add", "modify", "unchanged")}
    return {"dry_run": dry_run, "added": counts["add"], "modified": counts["modify"],
            "unchanged": counts["unchanged"], "jobs": [c.as_dict() for c in changes]}


def apply(change: Change, scheduler, user: str) -> None:
    body = {key: value for key, value in change.entry.items() if key not in ("job_id", "paused")}
    paused = change.entry["paused"]
    if change.action == "add":
        scheduler.add_job(body, user, job_id=change.job_id)
        if paused:
            scheduler.pause_job(change.job_id, user)
    elif change.action == "modify":
        was_paused = scheduler.get_job(change.job_id)["paused"]
        if any(not line.startswith("paused:") for line in change.changes):
            scheduler.modify_job(change.job_id, body, user)
        if paused and not was_paused:
            scheduler.pause_job(change.job_id, user)
        elif was_paused and not paused:
            scheduler.resume_job(change.job_id, user)


def describe(result: dict) -> str:
    """Human-readable summary lines of an import (the CLI prints them)."""
    verb = "would be" if result["dry_run"] else "were"
    lines = [f"{c['action']:9} {c['job_id']}  {c['name']}" + "".join(
        f"\n          {line}" for line in c["changes"]) for c in result["jobs"]
        if c["action"] != "unchanged"]
    lines.append(f"{result['added']} job(s) {verb} added, {result['modified']} modified, "
                 f"{result['unchanged']} unchanged")
    return "\n".join(lines)
