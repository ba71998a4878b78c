"""/api/v1/openapi.json: the API's OpenAPI description (web/openapi.py)."""
from __future__ import annotations

from bots_scheduler.access.roles import VIEWER
from bots_scheduler.web.handlers.base import ApiHandler
from bots_scheduler.web.openapi import openapi_document


class OpenApiHandler(ApiHandler):
    roles = {"get": VIEWER}

    def get(self):
        self.reply(openapi_document())
