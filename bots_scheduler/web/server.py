"""The Tornado web server: REST API routes and the single-page UI."""
from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import tornado.httpserver
import tornado.web

from bots_scheduler import browser_policy
from bots_scheduler.access.roles import VIEWER
from bots_scheduler.web.handlers.cluster import ClusterHandler
from bots_scheduler.web.handlers.base import (Access, ApiError, BaseHandler, NotFoundHandler,
                                              RefusedUnread, authorize, refuse_early)
from bots_scheduler.web.handlers.executions import (ExecutionsHandler, ExecutionStatsHandler,
                                                    LogsHandler)
from bots_scheduler.web.handlers.info import CronPreviewHandler, InfoHandler
from bots_scheduler.web.handlers.files import FilesHandler
from bots_scheduler.web.handlers.findings import ExecutionFindingsHandler, FindingsHandler
from bots_scheduler.web.handlers.health import HealthHandler
from bots_scheduler.web.handlers.jobs import JobClassesHandler, JobsHandler
from bots_scheduler.web.handlers.metrics import MetricsHandler
from bots_scheduler.web.handlers.openapi import OpenApiHandler
from bots_scheduler.web.handlers.secrets import SecretsHandler
from bots_scheduler.web.handlers.transfer import ExportHandler, ImportHandler

log = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).parent / "static"
# the connection-level cap; JSON handlers refuse much less (ApiHandler.max_body) with a 413
MAX_BODY = 64 * 1024 * 1024


class IndexHandler(BaseHandler):
    roles = {"get": VIEWER}

    def get(self):
        index = STATIC_DIR / "index.html"
        if not index.is_file():
            raise tornado.web.HTTPError(404)
        self.set_header("Content-Type", "text/html; charset=UTF-8")
        self.finish(index.read_bytes())


@tornado.web.stream_request_body
class StaticHandler(tornado.web.StaticFileHandler):
    """Static assets; refused like the API when a request bypasses the proxy (before any body
    is read), with the same security headers."""
    roles = {"get": VIEWER}
    takes_json = False

    def set_default_headers(self):
        for name, value in browser_policy.COMMON_HEADERS.items():
            self.set_header(name, value)

    async def prepare(self):
        await refuse_early(self, self._check_request)

    async def _check_request(self):
        length = self.request.headers.get("Content-Length", "0").strip()
        if "chunked" in self.request.headers.get("Transfer-Encoding", "").lower() or \
                length not in ("", "0"):
            raise RefusedUnread(413, "a static file takes no request body")
        self.request.connection.set_max_body_size(0)
        try:
            await authorize(self)
        except ApiError as exc:
            raise tornado.web.HTTPError(exc.status_code) from None

    def data_received(self, chunk: bytes):
        pass


# every route: its pattern, its handler, and the collaborators the handler uses (by name, see
# ``routes``); the static files' handler gets its folder
ROUTES: list[tuple[str, type, tuple[str, ...]]] = [
    (r"/", IndexHandler, ()),
    (r"/static/(.*)", StaticHandler, ()),
    (r"/api/v1/info/?", InfoHandler, ("timezone", "local")),
    (r"/api/v1/cluster/?", ClusterHandler, ("cluster",)),
    (r"/api/v1/cron/preview/?", CronPreviewHandler, ("timezone",)),
    (r"/api/v1/jobclasses/?", JobClassesHandler, ("registry",)),
    (r"/api/v1/jobs/?", JobsHandler, ("scheduler", "registry")),
    (r"/api/v1/jobs/([^/]+)/?", JobsHandler, ("scheduler", "registry")),
    (r"/api/v1/executions/stats/?", ExecutionStatsHandler, ("executions", "registry")),
    (r"/api/v1/executions/?", ExecutionsHandler,
     ("executions", "findings", "registry", "scheduler", "stops")),
    (r"/api/v1/executions/([^/]+)/findings/?", ExecutionFindingsHandler,
     ("executions", "findings", "registry")),
    (r"/api/v1/executions/([^/]+)/?", ExecutionsHandler,
     ("executions", "findings", "registry", "scheduler", "stops")),
    (r"/api/v1/logs/?", LogsHandler, ("executions", "registry")),
    (r"/api/v1/findings/?", FindingsHandler, ("findings", "registry")),
    (r"/api/v1/findings/([0-9a-f]{64})/?", FindingsHandler, ("findings", "registry")),
    (r"/api/v1/files/?", FilesHandler, ("files", "scheduler", "registry")),
    (r"/api/v1/files/(.+)", FilesHandler, ("files", "scheduler", "registry")),
    (r"/api/v1/export/?", ExportHandler, ("scheduler",)),
    (r"/api/v1/import/?", ImportHandler, ("scheduler",)),
    (r"/api/v1/secrets/?", SecretsHandler, ("scheduler", "secrets")),
    (r"/api/v1/secrets/([^/]+)/?", SecretsHandler, ("scheduler", "secrets")),
    (r"/api/v1/openapi.json", OpenApiHandler, ()),
    (r"/healthz", HealthHandler, ("datastore", "scheduler")),
    (r"/metrics", MetricsHandler, ("metrics",)),
]


def routes(app) -> list:
    """Tornado's rules: each route with the collaborators its handler uses, set on the handler
    by ``BaseHandler.initialize``; no handler reaches into the Application."""
    given = {"scheduler": app.scheduler, "registry": app.registry,
             "executions": app.executions, "findings": app.findings, "stops": app.stops,
             "cluster": app.cluster, "files": app.data_files, "secrets": app.secrets,
             "datastore": app.datastore, "metrics": app.metrics,
             "timezone": app.settings.timezone, "local": app.proxy_secret is None}
    rules = []
    for pattern, handler, uses in ROUTES:
        if handler is StaticHandler:
            rules.append((pattern, handler, {"path": str(STATIC_DIR)}))
        else:
            rules.append((pattern, handler, {name: given[name] for name in uses}))
    return rules


def make_web_app(app) -> tornado.web.Application:
    pool = ThreadPoolExecutor(max_workers=app.settings.max_workers, thread_name_prefix="web")
    return tornado.web.Application(
        routes(app), default_handler_class=NotFoundHandler, worker_pool=pool,
        access=Access(app.proxy_secret, app.local_user, app.tokens),
        debug=False, autoreload=False, compress_response=True,
        log_function=_log_request)


def serve_on(web_app, sockets) -> tornado.httpserver.HTTPServer:
    """Serve on already-bound sockets (see service.py: the port is held from the start)."""
    server = tornado.httpserver.HTTPServer(web_app, max_body_size=MAX_BODY, xheaders=False)
    server.add_sockets(sockets)
    return server


def _log_request(handler):
    status = handler.get_status()
    level = logging.WARNING if status >= 500 else logging.DEBUG
    logging.getLogger("bots_scheduler.access").log(
        level, "%d %s %s %.1fms", status, handler.request.method, handler.request.uri,
        1000.0 * handler.request.request_time())
