"""The OpenAPI 3.0 description of every route of web/server.py (GET /api/v1/openapi.json).

tests/web/test_openapi.py keeps it in step with the routes: a route without a path here, or a
path here without a route, fails the build.
"""
from __future__ import annotations

import re

from bots_scheduler import __version__
from bots_scheduler.executions.states import NAMES as STATES
from bots_scheduler.executions.store import LOG_EVENTS
from bots_scheduler.findings import CHANGES, SEVERITIES
from bots_scheduler.findings import STATES as FINDING_STATES
from bots_scheduler.scheduling.jobspec import API_CRON_FIELDS, OPTION_LIMITS
from bots_scheduler.transfer import FORMAT, VERSION

JSON = "application/json"


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _ok(description: str, schema: dict | None = None, status: str = "200",
        media: str = JSON) -> dict:
    content = {media: {"schema": schema or {"type": "object"}}}
    return {status: {"description": description, "content": content}}


def _errors(*codes: int) -> dict:
    reasons = {400: "Bad input", 404: "Unknown id", 405: "Method not allowed here",
               409: "Conflict", 413: "Body too large", 503: "Datastore unavailable"}
    return {str(code): {"description": reasons[code],
                        "content": {JSON: {"schema": _ref("Error")}}} for code in codes}


def _query(name: str, description: str, schema: dict | None = None) -> dict:
    return {"name": name, "in": "query", "required": False, "description": description,
            "schema": schema or {"type": "string"}}


def _path(name: str, description: str) -> dict:
    return {"name": name, "in": "path", "required": True, "description": description,
            "schema": {"type": "string"}}


def _op(summary: str, responses: dict, parameters=(), body: dict | None = None,
        tag: str = "") -> dict:
    operation = {"summary": summary, "responses": responses}
    if parameters:
        operation["parameters"] = list(parameters)
    if body is not None:
        operation["requestBody"] = body
    if tag:
        operation["tags"] = [tag]
    return operation


def _json_body(schema: dict, required: bool = True) -> dict:
    return {"required": required, "content": {JSON: {"schema": schema}}}


TIME_RANGE = [
    _query("time_range_start", "ISO 8601 timestamp (default: time_range_end - 24 h)",
           {"type": "string", "format": "date-time"}),
    _query("time_range_end", "ISO 8601 timestamp (default: now)",
           {"type": "string", "format": "date-time"}),
]
PAGING = [
    _query("limit", "Most items in one answer (1-5000)",
           {"type": "integer", "minimum": 1, "maximum": 5000}),
    _query("offset", "Items to skip (see next_offset)", {"type": "integer", "minimum": 0}),
]
JOB_ID = _path("job_id", "Job id")
SECRET_NAME = {"type": "string", "pattern": "^[A-Za-z0-9_.-]{1,64}$"}
SECRET_PATH = {**_path("name", "Secret name"), "schema": SECRET_NAME}


def _schemas() -> dict:
    cron = {name: {"type": "string", "example": "*"} for name in (*API_CRON_FIELDS, "second")}
    options = {
        "notify_changes": {"type": "boolean", "nullable": True},
        "alert_profiles": {"type": "array", "nullable": True, "maxItems": 20,
                           "items": {"type": "string", "minLength": 1, "maxLength": 100},
                           "description": "Alert profiles told of this job's runs (null: "
                                          "the server's --alert-profile)"},
        **{key: {"type": "integer" if key == "retries" else "number", "nullable": True,
                 "minimum": low, "maximum": high} for key, (low, high) in OPTION_LIMITS.items()},
    }
    job_input = {
        "type": "object",
        "properties": {
            "name": {"type": "string", "maxLength": 255, "example": "nightly check"},
            "job_class_string": {"type": "string",
                                 "example": "bots_scheduler.jobs.builtin.sample.HelloJob"},
            "pub_args": {"type": "array", "items": {}, "maxItems": 100,
                         "description": "The job's arguments, in order. {\"secret\": \"NAME\"} "
                                        "stands for a stored secret (resolved at run time); "
                                        "plain values of arguments the class declares "
                                        "'secret' are shown as \"********\", and sending "
                                        "that mask back keeps the stored value"},
            "timezone": {"type": "string", "example": "UTC"},
            **cron, **options,
        },
    }
    job = {"type": "object", "properties": {
        "job_id": {"type": "string"}, **job_input["properties"],
        "next_run_time": {"type": "string", "description": "ISO 8601; empty while paused"},
        "paused": {"type": "boolean"}}}
    execution = {"type": "object", "properties": {
        "execution_id": {"type": "string"}, "job": _ref("Job"), "job_id": {"type": "string"},
        "state": {"type": "string", "enum": list(STATES)},
        "hostname": {"type": "string"}, "pid": {"type": "integer"},
        **{name: {"type": "string"} for name in ("scheduled_time", "started_time",
                                                 "finished_time", "updated_time")},
        "description": {"type": "string"}, "result": {"type": "string",
                                                      "description": "The HTML report"},
        "task_id": {"type": "string"}, "notifications": {"type": "array", "items": {}},
        "alerts": {"type": "array", "description": "Per alert profile: profile, status "
                                                   "(queued, retrying, sent, failed), message, "
                                                   "events", "items": {"type": "object"}},
        "attempt": {"type": "integer", "description": "1 for the first run, 2 for the first "
                                                      "retry..."},
        "first_execution_id": {"type": "string",
                               "description": "The first attempt of this run"},
        "findings": _ref("FindingCounts")}}
    counts = {"type": "object", "description": "What the run's findings were (all 0 for a run "
                                               "that recorded none)",
              "properties": {name: {"type": "integer", "minimum": 0} for name in CHANGES}}
    finding = {"type": "object", "properties": {
        "id": {"type": "string", "description": "Identity of (job, kind, key): "
                                                "GET /api/v1/findings/{id}"},
        "job_id": {"type": "string"}, "kind": {"type": "string"}, "key": {"type": "string"},
        "title": {"type": "string", "nullable": True},
        "severity": {"type": "string", "enum": list(SEVERITIES)},
        "details": {"type": "object"},
        "state": {"type": "string", "enum": list(FINDING_STATES)},
        "first_seen": {"type": "string", "format": "date-time"},
        "last_seen": {"type": "string", "format": "date-time",
                      "description": "The last run that reported it (a gone one too)"},
        "first_execution_id": {"type": "string"}, "last_execution_id": {"type": "string"},
        "gone_time": {"type": "string", "description": "When it went (\"\" while open)"},
        "gone_execution_id": {"type": "string"},
        "event_time": {"type": "string", "format": "date-time",
                       "description": "Its last event: new, changed or gone"}}}
    run_finding = {"type": "object", "properties": {
        "id": {"type": "string"}, "execution_id": {"type": "string"},
        "change": {"type": "string", "enum": list(CHANGES)},
        "time": {"type": "string", "format": "date-time"}, "job_id": {"type": "string"},
        "kind": {"type": "string"}, "key": {"type": "string"},
        "title": {"type": "string", "nullable": True},
        "severity": {"type": "string", "enum": list(SEVERITIES)},
        "details": {"type": "object"},
        "state": {"type": "string", "enum": list(FINDING_STATES),
                  "description": "Its state now"}}}
    log_entry = {"type": "object", "properties": {
        "job_id": {"type": "string"}, "job_name": {"type": "string"},
        "event": {"type": "string", "enum": list(LOG_EVENTS)}, "user": {"type": "string"},
        "created_time": {"type": "string"}, "description": {"type": "string"}}}
    document = {"type": "object", "required": ["format", "version", "jobs"], "properties": {
        "format": {"type": "string", "enum": [FORMAT]},
        "version": {"type": "integer", "enum": list(range(1, VERSION + 1))},
        "exported_at": {"type": "string"},
        "jobs": {"type": "array", "items": {"allOf": [_ref("JobInput"), {
            "type": "object", "required": ["job_id", "name", "job_class_string"],
            "properties": {"job_id": {"type": "string"}, "paused": {"type": "boolean"}}}]}}}}
    return {
        "Error": {"type": "object", "required": ["error"],
                  "properties": {"error": {"type": "string"}}},
        "JobInput": job_input, "Job": job, "Execution": execution, "Log": log_entry,
        "FindingCounts": counts, "Finding": finding, "RunFinding": run_finding,
        "FindingWithHistory": {"allOf": [_ref("Finding"), {"type": "object", "properties": {
            "runs_seen": {"type": "integer"},
            "history": {"type": "array", "items": {"type": "object", "properties": {
                "execution_id": {"type": "string"},
                "change": {"type": "string", "enum": ["new", "changed", "gone"]},
                "time": {"type": "string", "format": "date-time"},
                "title": {"type": "string", "nullable": True},
                "severity": {"type": "string", "nullable": True},
                "details": {"type": "object", "nullable": True}}}}}}]},
        "JobsDocument": document,
        "ImportResult": {"type": "object", "properties": {
            "dry_run": {"type": "boolean"}, "added": {"type": "integer"},
            "modified": {"type": "integer"}, "unchanged": {"type": "integer"},
            "jobs": {"type": "array", "items": {"type": "object"}}}},
        "Secret": {"type": "object", "properties": {
            "name": SECRET_NAME, "created_time": {"type": "string"},
            "updated_time": {"type": "string"}, "updated_by": {"type": "string"},
            "used_by": {"type": "array", "items": {"type": "string"},
                        "description": "Ids of the jobs whose arguments reference it"}}},
        "SecretName": {"type": "object", "properties": {"name": SECRET_NAME}},
        "Id": {"type": "object", "properties": {"job_id": {"type": "string"},
                                                 "execution_id": {"type": "string"}}},
    }


def _paths() -> dict:
    page = {"type": "object", "properties": {"total": {"type": "integer"},
                                             "next_offset": {"type": "integer",
                                                             "nullable": True}}}
    job_id_answer = _ok("Done", _ref("Id"))
    return {
        "/": {"get": _op("The web interface", _ok("index.html", {"type": "string"},
                                                  media="text/html"), tag="ui")},
        "/static/{path}": {"get": _op("Static assets of the web interface",
                                      {"200": {"description": "The file"},
                                       "404": {"description": "No such file"}},
                                      [_path("path", "Asset path")], tag="ui")},
        "/healthz": {"get": _op("Health: datastore reachable and scheduler running", {
            **_ok("Healthy"), "503": {"description": "Unhealthy; the body says why",
                                      "content": {JSON: {"schema": {"type": "object"}}}}},
            tag="operations")},
        "/metrics": {"get": _op("Prometheus metrics (text exposition format)",
                                _ok("Metrics", {"type": "string"}, media="text/plain"),
                                tag="operations")},
        "/api/v1/openapi.json": {"get": _op("This document", _ok("OpenAPI 3.0"),
                                            tag="operations")},
        "/api/v1/info": {"get": _op("Server facts for the web interface", _ok("Facts", {
            "type": "object", "properties": {
                "version": {"type": "string"}, "timezone": {"type": "string"},
                "user": {"type": "string"}, "local": {"type": "boolean"},
                "states": {"type": "array", "items": {"type": "string", "enum": list(STATES)},
                           "description": "every execution state, in display order"},
                "active_states": {"type": "array",
                                  "items": {"type": "string", "enum": list(STATES)},
                                  "description": "the states of an execution not yet ended"}}}))},
        "/api/v1/cluster": {"get": _op("Schedulers sharing the datastore and Celery workers",
                                       {**_ok("The cluster"), **_errors(503)})},
        "/api/v1/cron/preview": {"get": _op(
            "Next run times of a cron schedule",
            {**_ok("Run times"), **_errors(400)},
            [*(_query(name, f"cron field {name}") for name in (*API_CRON_FIELDS, "second")),
             _query("timezone", "IANA zone name")])},
        "/api/v1/jobclasses": {"get": _op("Loadable, enabled job classes", _ok("Classes"),
                                          tag="jobs")},
        "/api/v1/jobs": {
            "get": _op("All jobs", {**_ok("Jobs", {"allOf": [page, {
                "type": "object", "properties": {"jobs": {"type": "array",
                                                          "items": _ref("Job")}}}]}),
                **_errors(400, 503)},
                [*PAGING, _query("q", "Search: part of the name, of the job class string or of "
                                        "the class's display name (any case), or the exact "
                                        "job id"),
                 _query("sort", "Sort key", {"type": "string",
                                             "enum": ["name", "job_class", "next_run_time",
                                                      "status"]}),
                 _query("order", "asc or desc", {"type": "string", "enum": ["asc", "desc"]})],
                tag="jobs"),
            "post": _op("Add a job", {**_ok("Added", _ref("Id"), "201"),
                                      **_errors(400, 413, 503)},
                        body=_json_body({"allOf": [_ref("JobInput"), {
                            "type": "object", "required": ["name", "job_class_string"]}]}),
                        tag="jobs"),
        },
        "/api/v1/jobs/{job_id}": {
            "get": _op("One job", {**_ok("The job", _ref("Job")), **_errors(404, 503)},
                       [JOB_ID], tag="jobs"),
            "put": _op("Modify a job (fields left out keep their value)",
                       {**job_id_answer, **_errors(400, 404, 413, 503)}, [JOB_ID],
                       _json_body(_ref("JobInput")), tag="jobs"),
            "delete": _op("Delete a job", {**job_id_answer, **_errors(404, 503)}, [JOB_ID],
                          tag="jobs"),
            "patch": _op("Pause a job", {**job_id_answer, **_errors(404, 503)}, [JOB_ID],
                         tag="jobs"),
            "options": _op("Resume a job", {**job_id_answer, **_errors(404, 503)}, [JOB_ID],
                           tag="jobs"),
        },
        "/api/v1/executions": {"get": _op(
            "Executions scheduled in the time range",
            {**_ok("Executions", {"allOf": [page, {"type": "object", "properties": {
                "executions": {"type": "array", "items": _ref("Execution")}}}]}),
             **_errors(400, 503)},
            [*TIME_RANGE, *PAGING, _query("state", "Only this state",
                                          {"type": "string", "enum": list(STATES)}),
             _query("job_id", "Only this job's"),
             _query("result", "false: leave the reports (result) out of the items",
                    {"type": "boolean", "default": True})], tag="executions")},
        "/api/v1/executions/stats": {"get": _op(
            "Executions by state and by day in the time range",
            {**_ok("Counts"), **_errors(400, 503)}, TIME_RANGE, tag="executions")},
        "/api/v1/executions/{id}": {
            "get": _op("One execution, with its report",
                       {**_ok("The execution", _ref("Execution")), **_errors(404, 503)},
                       [_path("id", "Execution id")], tag="executions"),
            "post": _op("Run the job now (the id is a job id)",
                        {**_ok("Queued", _ref("Id")), **_errors(400, 404, 503)},
                        [_path("id", "Job id")], tag="executions"),
            "delete": _op("Stop a running or queued execution (running: state stopping, then "
                          "stopped when its run ends; queued: stopped)",
                          {**_ok("Stopping", {"type": "object", "properties": {
                              "execution_id": {"type": "string"},
                              "state": {"type": "string", "enum": ["stopping", "stopped"]}}}),
                           **_errors(404, 409, 503)},
                          [_path("id", "Execution id")], tag="executions"),
        },
        "/api/v1/executions/{id}/findings": {"get": _op(
            "The findings an execution recorded, each with its change",
            {**_ok("Findings", {"allOf": [page, {"type": "object", "properties": {
                "execution_id": {"type": "string"}, "counts": _ref("FindingCounts"),
                "findings": {"type": "array", "items": _ref("RunFinding")}}}]}),
             **_errors(400, 404, 503)},
            [_path("id", "Execution id"), *PAGING,
             _query("change", "Only this change", {"type": "string", "enum": list(CHANGES)})],
            tag="findings")},
        "/api/v1/findings": {"get": _op(
            "Findings, the latest event (new, changed, gone) first",
            {**_ok("Findings", {"allOf": [page, {"type": "object", "properties": {
                "findings": {"type": "array", "items": _ref("Finding")}}}]}),
             **_errors(400, 503)},
            [_query("job_id", "Only this job's"),
             _query("state", "open or gone (default: both)",
                    {"type": "string", "enum": list(FINDING_STATES)}),
             _query("kind", "Only this kind", {"type": "string", "maxLength": 512}),
             _query("severity", "Only this severity",
                    {"type": "string", "enum": list(SEVERITIES)}),
             _query("since", "Only findings first seen, changed or gone at or after this "
                             "ISO 8601 time", {"type": "string", "format": "date-time"}),
             *PAGING], tag="findings")},
        "/api/v1/findings/{id}": {"get": _op(
            "One finding with its history (new, changed, gone; newest first)",
            {**_ok("The finding", _ref("FindingWithHistory")), **_errors(404, 503)},
            [_path("id", "Finding id (64 hex digits)")], tag="findings")},
        "/api/v1/logs": {"get": _op(
            "Audit log entries in the time range",
            {**_ok("Entries", {"allOf": [page, {"type": "object", "properties": {
                "logs": {"type": "array", "items": _ref("Log")}}}]}), **_errors(400, 503)},
            [*TIME_RANGE, *PAGING, _query("job_id", "Only this job's"),
             _query("job", "Job name or id, in part"), _query("user", "User name, in part"),
             _query("event", "Only this event", {"type": "string", "enum": list(LOG_EVENTS)})],
            tag="logs")},
        "/api/v1/files": {
            "get": _op("Data files", {**_ok("Files"), **_errors(400, 503)},
                       [*PAGING, *TIME_RANGE], tag="files"),
            "post": _op("Upload a data file (multipart field file)",
                        {**_ok("Stored", status="201"), **_errors(400, 409, 413, 503)},
                        [_query("replace", "Replace an existing file of that name",
                                {"type": "string", "enum": ["true", "false"]})],
                        {"required": True, "content": {"multipart/form-data": {"schema": {
                            "type": "object", "required": ["file"], "properties": {
                                "file": {"type": "string", "format": "binary"}}}}}},
                        tag="files"),
        },
        "/api/v1/files/{path}": {
            "delete": _op("Delete a data file", {**_ok("Deleted"), **_errors(400, 404, 409, 503)},
                          [_path("path", "Relative path in the data folder"),
                           _query("force", "Delete even if jobs use it",
                                  {"type": "string", "enum": ["true", "false"]})],
                          tag="files"),
            "options": _op("Does this data file exist", {**_ok("It exists"), **_errors(404)},
                           [_path("path", "Relative path in the data folder")], tag="files"),
        },
        "/api/v1/secrets": {
            "get": _op("Secrets: names, times and the jobs using each; never a value",
                       {**_ok("Secrets", {"type": "object", "properties": {
                           "secrets": {"type": "array", "items": _ref("Secret")}}}),
                        **_errors(503)}, tag="secrets"),
            "post": _op("Store a new secret (encrypted at rest)",
                        {**_ok("Stored", _ref("SecretName"), "201"),
                         **_errors(400, 409, 413, 503)},
                        body=_json_body({"type": "object", "required": ["name", "value"],
                                         "properties": {"name": SECRET_NAME,
                                                        "value": {"type": "string",
                                                                  "minLength": 1}}}),
                        tag="secrets"),
        },
        "/api/v1/secrets/{name}": {
            "put": _op("Replace a secret's value",
                       {**_ok("Replaced", _ref("SecretName")), **_errors(400, 404, 413, 503)},
                       [SECRET_PATH],
                       _json_body({"type": "object", "required": ["value"], "properties": {
                           "value": {"type": "string", "minLength": 1}}}), tag="secrets"),
            "delete": _op("Delete a secret (409 naming the jobs that use it, unless force)",
                          {**_ok("Deleted", _ref("SecretName")), **_errors(400, 404, 409, 503)},
                          [SECRET_PATH, _query("force", "Delete even if jobs use it",
                                               {"type": "string", "enum": ["1", "0"]})],
                          tag="secrets"),
        },
        "/api/v1/export": {"get": _op("Every job definition, as a versioned document",
                                      {**_ok("The document", _ref("JobsDocument")),
                                       **_errors(503)}, tag="transfer")},
        "/api/v1/import": {"post": _op(
            "Add or modify jobs from an exported document (idempotent)",
            {**_ok("What changed, or would change", _ref("ImportResult")),
             **_errors(400, 413, 503)},
            [_query("dry_run", "Only say what would change",
                    {"type": "string", "enum": ["true", "false"]})],
            _json_body(_ref("JobsDocument")), tag="transfer")},
    }


def _with_roles(paths: dict) -> dict:
    """Each operation's ``x-required-role``: the role its route's handler declares (the one
    declaration the scheduler enforces), and the 401/403 answers every call may give."""
    from bots_scheduler.web.handlers.base import required_role
    from bots_scheduler.web.server import ROUTES
    handlers = {}
    for route in ROUTES:
        template = re.sub(r"\([^)]*\)", "{}", route[0])
        handlers[template[:-2] if template.endswith("/?") and template != "/?" else template] = \
            route[1]
    for path, operations in paths.items():
        handler = handlers.get(re.sub(r"\{[^}]+\}", "{}", path))
        for method, operation in operations.items():
            if handler is None:
                continue
            role = required_role(handler, method)
            operation["x-required-role"] = role
            operation["description"] = f"Role: {role} or higher."
            operation["responses"].setdefault("401", {
                "description": "Through the proxy: no, wrong, revoked or expired credentials",
                "content": {JSON: {"schema": _ref("Error")}}})
            operation["responses"].setdefault("403", {
                "description": "The caller's role is too low (the error names the role "
                               "needed), or the request bypassed the proxy",
                "content": {JSON: {"schema": _ref("Error")}}})
    return paths


def openapi_document() -> dict:
    return {
        "openapi": "3.0.3",
        "info": {"title": "Bots Scheduler REST API", "version": __version__,
                 "description": "Version 1 of the REST API (compatible with ndscheduler's), "
                                "with the operations additions. Errors are "
                                "{\"error\": \"...\"}."},
        "servers": [{"url": "/"}],
        "paths": _with_roles(_paths()),
        "components": {"schemas": _schemas()},
    }
