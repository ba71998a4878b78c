"""Every route declares the role of each of its methods once, and the OpenAPI document shows
that declaration (CONTRACT §6)."""
from __future__ import annotations

import re

import tornado.web

from bots_scheduler.access.roles import ROLES
from bots_scheduler.web.handlers.base import required_role
from bots_scheduler.web.openapi import openapi_document
from bots_scheduler.web.server import ROUTES

METHODS = ("get", "post", "put", "delete", "patch", "options")


def test_every_method_of_every_route_declares_its_role():
    for route in ROUTES:
        handler = route[1]
        for method in METHODS:
            if getattr(handler, method, None) is getattr(tornado.web.RequestHandler, method):
                continue
            assert handler.roles.get(method) in ROLES, \
                f"{handler.__name__}.{method} ({route[0]}) declares no role"


def test_the_openapi_document_shows_the_declared_role_of_every_operation():
    by_template = {}
    for route in ROUTES:
        template = re.sub(r"\([^)]*\)", "{}", route[0])
        by_template[template[:-2] if template.endswith("/?") else template] = route[1]
    document = openapi_document()
    for path, operations in document["paths"].items():
        handler = by_template[re.sub(r"\{[^}]+\}", "{}", path)]
        for method, operation in operations.items():
            assert operation["x-required-role"] == required_role(handler, method), (path, method)
            assert {"401", "403"} <= set(operation["responses"]), (path, method)
    jobs = document["paths"]["/api/v1/jobs/{job_id}"]
    assert (jobs["get"]["x-required-role"], jobs["patch"]["x-required-role"],
            jobs["put"]["x-required-role"]) == ("viewer", "operator", "admin")
