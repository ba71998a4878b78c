"""/api/v1/openapi.json describes every route of the server, and only those; schemathesis,
driven by it, finds no server error in the running server."""
from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import tornado.web

from bots_scheduler.web.openapi import openapi_document
from bots_scheduler.web.server import ROUTES

METHODS = ("get", "post", "put", "delete", "patch", "options")


def template(pattern: str) -> str:
    """``/api/v1/jobs/([^/]+)/?`` -> ``/api/v1/jobs/{}``."""
    path = re.sub(r"\([^)]*\)", "{}", pattern)
    return path[:-2] if path.endswith("/?") and path != "/?" else path


def implemented(handler) -> set[str]:
    return {m for m in METHODS
            if getattr(handler, m, None) is not getattr(tornado.web.RequestHandler, m)}


def test_every_route_is_described_and_every_described_path_is_a_route():
    served = {template(route[0]) for route in ROUTES}
    described = {re.sub(r"\{[^}]+\}", "{}", path) for path in openapi_document()["paths"]}
    assert served - described == set(), "routes missing from the OpenAPI document"
    assert described - served == set(), "OpenAPI paths the server does not serve"


def test_every_described_operation_is_implemented_and_every_method_described():
    paths = {re.sub(r"\{[^}]+\}", "{}", path): ops
             for path, ops in openapi_document()["paths"].items()}
    by_handler: dict = {}
    for route in ROUTES:
        path, handler = template(route[0]), route[1]
        assert set(paths[path]) <= implemented(handler), path
        by_handler.setdefault(handler, set()).update(paths[path])
    for handler, described in by_handler.items():
        assert implemented(handler) <= described, f"{handler.__name__}: undocumented methods"


def test_the_server_serves_the_document(server):
    srv = server()
    response = srv.get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert response.json() == openapi_document()


def test_schemathesis_finds_no_server_error(server, workdir):
    srv = server()
    command = [str(Path(sys.executable).with_name("schemathesis")), "run",
               f"{srv.url}/api/v1/openapi.json", "--checks", "not_a_server_error",
               "--max-examples", "25", "--seed", "1",
               "--request-timeout", "20", "--workers", "1"]
    if not Path(command[0]).exists():
        command[0] = shutil.which("schemathesis") or command[0]
    result = subprocess.run(command, cwd=workdir, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    assert re.search(r"\b[1-9]\d* passed\b", result.stdout), result.stdout[-3000:]
    assert srv.proc.poll() is None
    assert not re.search(r"bots_scheduler\.access: 5\d\d ", srv.stderr())
