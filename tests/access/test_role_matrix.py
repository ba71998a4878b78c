"""CONTRACT §6: every route of the OpenAPI document, walked through the real proxy with each
role (htpasswd users of .htgroups and API tokens), no credentials, a revoked and an expired
token: 2xx when the role allows the call, 403 naming the role otherwise, 401 for bad
credentials, and nothing changed after a refusal. On SQLite, PostgreSQL and MariaDB."""
from __future__ import annotations

import re
import subprocess
import sys
from datetime import datetime, timedelta, timezone

import warnings

import pytest
import requests
import sqlalchemy
from urllib3.exceptions import InsecureRequestWarning

from tests.datafiles.multipart import multipart_body

HELLO = "bots_scheduler.jobs.builtin.sample.HelloJob"
RANK = {"viewer": 0, "operator": 1, "admin": 2}
USERS = {"vera": "viewer", "otto": "operator", "ada": "admin"}
JOB_ID = "matrix-job"
FILE = "matrix.txt"
SECRET = "matrix-secret"


def cli(workdir, database, *args, stdin=None):
    result = subprocess.run([sys.executable, "-m", "bots_scheduler", *args, *database],
                            cwd=workdir, input=stdin, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout


def engine_of(workdir, database):
    """The datastore the server uses, from the same options (to age a token)."""
    from bots_scheduler.cli.definition import build_parser
    from bots_scheduler.settings import database_settings
    args = build_parser().parse_args(["token", "list", "--db-config",
                                      str(workdir / "conf" / "db.ini"), *database])
    return sqlalchemy.create_engine(database_settings(args, workdir / "data").url)


class SourceAddress(requests.adapters.HTTPAdapter):
    """Connections from a given local address (127.0.0.N: every 127/8 address is loopback)."""

    def __init__(self, address: str):
        self.address = address
        super().__init__()

    def init_poolmanager(self, *args, **kwargs):
        kwargs["source_address"] = (self.address, 0)
        super().init_poolmanager(*args, **kwargs)


def from_address(method, url, address, **kwargs):
    with requests.Session() as session:
        session.mount("https://", SourceAddress(address))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", InsecureRequestWarning)
            return session.request(method, url, verify=False, timeout=30,
                                   allow_redirects=False, **kwargs)


class Caller:
    """Calls through the proxy as one identity.  A caller whose credentials fail comes from a
    new loopback address each time (127.0.0.2, .3...): the proxy blocks an address after 10
    failed logins, and this test fails on purpose far more often than that."""
    _next_address = 1

    def __init__(self, base, name, auth=None, token=None, failing=False):
        self.base, self.name, self.auth, self.token = base, name, auth, token
        self.failing = failing
        self.session = requests.Session()     # one TLS connection kept open

    def __call__(self, method, path, **kwargs):
        headers = {"X-Requested-With": "role-matrix", **kwargs.pop("headers", {})}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        if self.failing:
            Caller._next_address = Caller._next_address % 250 + 1
            return from_address(method, self.base + path, f"127.0.0.{Caller._next_address + 1}",
                                auth=self.auth, headers=headers, **kwargs)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", InsecureRequestWarning)
            return self.session.request(method, self.base + path, auth=self.auth,
                                        headers=headers, verify=False, timeout=30,
                                        allow_redirects=False, **kwargs)


@pytest.fixture
def matrix(server, database, workdir):
    users = workdir / "users.htpasswd"
    for user, role in USERS.items():
        cli(workdir, [], "passwd", user, "--htpasswd", str(users), "--password-stdin",
            "--role", role, stdin=f"{user} pw\n")
    assert "operator: otto" in (workdir / ".htgroups").read_text()
    tokens = {}
    for role in RANK:
        out = cli(workdir, database, "token", "create", f"t-{role}", "--role", role)
        tokens[role] = out.strip().splitlines()[-1]
    revoked = cli(workdir, database, "token", "create", "t-revoked", "--role", "admin"
                  ).strip().splitlines()[-1]
    cli(workdir, database, "token", "revoke", "t-revoked")
    expired = cli(workdir, database, "token", "create", "t-expired", "--role", "admin",
                  "--expires-days", "1").strip().splitlines()[-1]
    engine = engine_of(workdir, database)
    with engine.begin() as conn:
        conn.execute(sqlalchemy.text("UPDATE scheduler_jobs_tokens SET expires_time = :t "
                                     "WHERE name = 't-expired'"),
                     {"t": datetime.now(timezone.utc).replace(tzinfo=None) - timedelta(minutes=1)})
    engine.dispose()
    srv = server("--htpasswd", str(users), *database, local=False)
    base = srv.proxy_url
    callers = {"no credentials": (Caller(base, "none"), None),
               "revoked token": (Caller(base, "revoked", token=revoked, failing=True), None),
               "expired token": (Caller(base, "expired", token=expired, failing=True), None)}
    for user, role in USERS.items():
        callers[f"user {user}"] = (Caller(base, user, auth=(user, f"{user} pw")), role)
        callers[f"token t-{role}"] = (Caller(base, f"token:t-{role}", token=tokens[role]), role)
    admin = callers["user ada"][0]
    return srv, callers, admin


def seed(admin) -> str:
    """The job, file and secret the routes name (put back after a call that removed them);
    returns an execution id."""
    document = {"format": "bots-scheduler-jobs", "version": 1, "jobs": [
        {"job_id": JOB_ID, "name": "matrix", "job_class_string": HELLO, "pub_args": ["m"],
         "minute": "0", "hour": "0"}]}
    assert admin("POST", "/api/v1/import", json=document).status_code == 200
    if admin("OPTIONS", f"/api/v1/files/{FILE}").status_code == 404:
        body, kind = multipart_body(FILE, b"192.0.2.1\n")
        assert admin("POST", "/api/v1/files", data=body,
                     headers={"Content-Type": kind}).status_code == 201
    names = [s["name"] for s in admin("GET", "/api/v1/secrets").json()["secrets"]]
    if SECRET not in names:
        assert admin("POST", "/api/v1/secrets", json={"name": SECRET, "value": "v-1"}
                     ).status_code == 201


def state(admin) -> dict:
    """What a refused call must not change."""
    answer = admin("GET", "/api/v1/jobs")
    assert answer.status_code == 200, answer.text
    jobs = answer.json()["jobs"]
    return {
        "jobs": sorted((j["job_id"], j["name"], j["paused"], str(j["pub_args"])) for j in jobs),
        "files": sorted(f["filename"] for f in admin("GET", "/api/v1/files").json()["files"]),
        "secrets": sorted((s["name"], s["updated_time"]) for s in
                          admin("GET", "/api/v1/secrets").json()["secrets"]),
        "logs": admin("GET", "/api/v1/logs?limit=5000").json()["total"],
        "executions": admin("GET", "/api/v1/executions?limit=5000").json()["total"],
    }


def request_for(method, path, execution_id, counter):
    """(concrete path, keyword arguments) of a call that succeeds for a role allowed to make it."""
    concrete = (path.replace("{job_id}", JOB_ID).replace("{path}", FILE)
                .replace("{name}", SECRET))
    if path == "/static/{path}":
        concrete = "/static/app.js"
    if path == "/api/v1/executions/{id}" and method == "post":
        concrete = f"/api/v1/executions/{JOB_ID}"           # run now takes a job id
    if path.startswith("/api/v1/executions/"):
        concrete = concrete.replace("{id}", execution_id)
    # any other id (a finding's): an unknown one, so the allowed answer is a 404
    concrete = re.sub(r"\{[^}]+\}", "0" * 64, concrete)
    kwargs = {}
    if (method, path) == ("post", "/api/v1/jobs"):
        kwargs["json"] = {"job_class_string": HELLO, "name": f"new {counter}", "minute": "0"}
    elif (method, path) == ("put", "/api/v1/jobs/{job_id}"):
        kwargs["json"] = {"name": f"renamed {counter}"}
    elif (method, path) == ("post", "/api/v1/files"):
        body, kind = multipart_body(f"upload-{counter}.txt", b"192.0.2.9\n")
        kwargs.update(data=body, headers={"Content-Type": kind})
    elif (method, path) == ("post", "/api/v1/secrets"):
        kwargs["json"] = {"name": f"new-{counter}", "value": "x"}
    elif (method, path) == ("put", "/api/v1/secrets/{name}"):
        kwargs["json"] = {"value": f"v-{counter}"}
    elif (method, path) == ("post", "/api/v1/import"):
        kwargs["json"] = {"format": "bots-scheduler-jobs", "version": 1, "jobs": []}
    elif (method, path) == ("delete", "/api/v1/files/{path}"):
        concrete += "?force=1"
    elif (method, path) == ("delete", "/api/v1/secrets/{name}"):
        concrete += "?force=1"
    return concrete, kwargs


@pytest.mark.timeout(900)
def test_every_route_answers_each_role_as_declared(matrix):
    srv, callers, admin = matrix
    seed(admin)
    run = admin("POST", f"/api/v1/executions/{JOB_ID}").json()["execution_id"]
    srv.wait_for(lambda: admin("GET", f"/api/v1/executions/{run}").json()["state"]
                 == "succeeded", what="the seeded run")
    document = admin("GET", "/api/v1/openapi.json").json()
    checked, counter = 0, 0
    before = None
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            needed = operation["x-required-role"]
            for label, (caller, role) in callers.items():
                counter += 1
                concrete, kwargs = request_for(method, path, run, counter)
                if before is None:
                    seed(admin)
                    before = state(admin)
                answer = caller(method.upper(), concrete, **kwargs)
                where = f"{method.upper()} {concrete} as {label}"
                if role is None:
                    assert answer.status_code == 401, f"{where}: {answer.status_code}"
                    assert state(admin) == before, f"{where} changed something"
                elif RANK[role] < RANK[needed]:
                    assert answer.status_code == 403, f"{where}: {answer.status_code}"
                    assert needed in answer.json()["error"], where
                    assert state(admin) == before, f"{where} changed something"
                else:
                    # stopping a run that already ended is a 409: the call was allowed
                    allowed = (200, 201)
                    if (method, path) == ("delete", "/api/v1/executions/{id}"):
                        allowed = (200, 409)    # stopping a run that already ended: 409
                    elif "0" * 64 in concrete:
                        allowed = (404,)        # allowed, and nothing has that id
                    assert answer.status_code in allowed, \
                        f"{where}: {answer.status_code} {answer.text[:300]}"
                    if method != "get":
                        before = None      # it may have changed things: seed and look again
                checked += 1
    assert checked >= 30 * len(callers) // 2
    info = callers["token t-operator"][0]("GET", "/api/v1/info").json()
    assert (info["user"], info["role"]) == ("token:t-operator", "operator")
    info = callers["user vera"][0]("GET", "/api/v1/info").json()
    assert (info["user"], info["role"]) == ("vera", "viewer")
    users = {entry["user"] for entry in admin("GET", "/api/v1/logs?limit=5000").json()["logs"]}
    assert {"token:t-admin", "token:t-operator", "ada", "otto"} <= users
    listed = cli(srv.cwd, srv.extra_args[2:], "token", "list")
    assert "t-operator" in listed and "bst_" not in listed
    assert "never" not in listed.splitlines()[[line.split()[0] for line in listed.splitlines()]
                                              .index("t-operator")].split()[-1]
