"""Each route gives its handler exactly the collaborators the handler declares (web/server.py's
ROUTES and the annotations on the handler classes), and no handler reaches into the
Application."""
from __future__ import annotations

from pathlib import Path

from bots_scheduler.web.handlers.base import ApiHandler, BaseHandler
from bots_scheduler.web.server import ROUTES, StaticHandler

HANDLERS = Path(__file__).resolve().parents[2] / "bots_scheduler" / "web"


def declared(handler: type) -> set[str]:
    names: set[str] = set()
    for klass in handler.__mro__:
        if klass in (ApiHandler, BaseHandler) or not issubclass(klass, BaseHandler):
            continue
        if klass.__module__.startswith("bots_scheduler.web"):
            names |= set(vars(klass).get("__annotations__", {}))
    return names


def test_every_route_gives_what_its_handler_declares_and_nothing_else():
    for pattern, handler, uses in ROUTES:
        if handler is StaticHandler:
            continue
        assert set(uses) == declared(handler), pattern
        assert len(uses) == len(set(uses)), pattern


def test_no_handler_reaches_into_the_application():
    for path in HANDLERS.rglob("*.py"):
        text = path.read_text()
        assert "bots_app" not in text and "application_ctx" not in text, path.name
        assert "bots_scheduler.app" not in text, path.name
