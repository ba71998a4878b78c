"""What every API handler shares: JSON errors, the user, the worker pool, time ranges, paging."""
from __future__ import annotations

import hmac
import json
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from urllib.parse import unquote

import tornado.ioloop
import tornado.web

from bots_scheduler import jsontext
from bots_scheduler.access.roles import ADMIN, ROLES, VIEWER, allows
from bots_scheduler.errors import InvalidInput
from bots_scheduler.web.errors import ApiError, http_answer, log_error

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Bots-Proxy-Secret"
USER_HEADER = "X-Bots-User"
ROLE_HEADER = "X-Bots-Role"      # the role the proxy found for the user (.htgroups)
TOKEN_HEADER = "X-Bots-Token"    # a bearer token the proxy passes on for the scheduler to check
DEFAULT_LIMIT = 500
MAX_LIMIT = 5000
TRUE_WORDS = ("true", "1", "yes", "on")
FALSE_WORDS = ("false", "0", "no", "off")

__all__ = ["ApiError", "ApiHandler", "BaseHandler", "parse_flag"]


def parse_flag(name: str, value: str | None, default: bool) -> bool:
    """The one reading of a true/false query argument: true/1/yes/on, false/0/no/off (any
    case), ``default`` when absent or empty; anything else is refused (400)."""
    text = (value or "").strip().lower()
    if not text:
        return default
    if text in TRUE_WORDS:
        return True
    if text in FALSE_WORDS:
        return False
    raise InvalidInput(f"{name} must be true or false, not {text!r}")


def came_through_proxy(app, request) -> bool:
    """True in --local mode, or when the request carries the proxy's per-start secret."""
    if app.proxy_secret is None:
        return True
    given = request.headers.get(SECRET_HEADER, "")
    return hmac.compare_digest(given.encode(), app.proxy_secret.encode())


@dataclass(frozen=True)
class Identity:
    user: str
    role: str


async def authorize(handler) -> Identity:
    """Who calls, and may they: 403 for a request that bypassed the proxy, 401 for a bad
    bearer token, 403 naming the role needed when the caller's is lower.  Nothing has been
    read or changed yet when this refuses (upload bodies included: it runs in ``prepare``)."""
    app = handler.settings["bots_app"]
    request = handler.request
    if not came_through_proxy(app, request):
        raise ApiError(403, "forbidden: use the authentication proxy")
    if app.proxy_secret is None:
        identity = Identity(app.local_user, ADMIN)      # --local: the one local user
    elif TOKEN_HEADER in request.headers:
        token = request.headers[TOKEN_HEADER]
        pool = handler.settings["worker_pool"]
        # a datastore that does not answer is a 503 (web/errors.py)
        found = await tornado.ioloop.IOLoop.current().run_in_executor(
            pool, app.tokens.authenticate, token)
        if found is None:
            handler.set_header("WWW-Authenticate", 'Bearer realm="Bots Scheduler"')
            raise ApiError(401, "unknown, revoked or expired API token")
        identity = Identity(f"token:{found[0]}", found[1])
    else:
        # the proxy percent-encodes the name so that any UTF-8 user name survives
        user = unquote(request.headers.get(USER_HEADER, "")) or "unknown"
        # the proxy sends the role it found in .htgroups (a user in no group is a viewer)
        role = request.headers.get(ROLE_HEADER, VIEWER)
        identity = Identity(user, role if role in ROLES else VIEWER)
    needed = required_role(type(handler), request.method)
    if not allows(identity.role, needed):
        raise ApiError(403, f"{request.method} {request.path} needs the {needed} role "
                            f"({identity.user} has the {identity.role} role)")
    return identity


def required_role(handler_class, method: str) -> str:
    """The role a route's handler declares for ``method``; undeclared methods need admin."""
    return getattr(handler_class, "roles", {}).get(method.lower(), ADMIN)


class BaseHandler(tornado.web.RequestHandler):
    """Refuses requests that bypass the proxy while it is in use or that the caller's role does
    not allow (``roles``: the least role per method, shown by the OpenAPI document)."""

    roles: dict[str, str] = {}
    identity: Identity | None = None

    @property
    def application_ctx(self):
        return self.settings["bots_app"]

    async def prepare(self):
        self.identity = await authorize(self)

    @property
    def user(self) -> str:
        return self.identity.user if self.identity else "unknown"

    @property
    def role(self) -> str:
        return self.identity.role if self.identity else VIEWER

    def set_default_headers(self):
        self.set_header("X-Content-Type-Options", "nosniff")
        self.set_header("Cache-Control", "no-store")

    def write_error(self, status_code, **kwargs):
        """Every error answer: the status and message come from web/errors.py."""
        answer = http_answer(kwargs.get("exc_info", (None, None, None))[1])
        if answer is None:
            message = self._reason           # a bug of ours (500), or Tornado's own answer
        else:
            status, message = answer
            self.set_status(status)
        self.set_header("Content-Type", "application/json; charset=UTF-8")
        self.finish(jsontext.dumps({"error": message}))

    def log_exception(self, typ, value, tb):
        if log_error(value):
            return  # expected: user errors are answered, not logged as failures
        super().log_exception(typ, value, tb)


class ApiHandler(BaseHandler):
    max_body = 1024 * 1024   # JSON bodies above this are refused with 413

    def set_default_headers(self):
        super().set_default_headers()
        self.set_header("Content-Type", "application/json; charset=UTF-8")

    async def prepare(self):
        await super().prepare()
        if len(self.request.body or b"") > self.max_body:
            raise ApiError(413, f"request body larger than {self.max_body} bytes")

    async def blocking(self, fn, *args, **kwargs):
        """Run ``fn`` on the --max-workers pool (its errors are answered by write_error)."""
        pool = self.settings["worker_pool"]
        loop = tornado.ioloop.IOLoop.current()
        return await loop.run_in_executor(pool, lambda: fn(*args, **kwargs))

    def reply(self, payload, status: int = 200):
        self.set_status(status)
        self.finish(jsontext.dumps(payload))

    def compute_etag(self):
        # answers are never cached (Cache-Control: no-store): hashing megabytes of job lists
        # for an ETag nobody sends back is wasted time
        return None

    def json_body(self) -> dict:
        # the body is read as JSON whatever its declared type (ndscheduler clients vary);
        # cross-site form posts are stopped by the proxy's CSRF check
        try:
            body = json.loads(self.request.body or b"{}")
        except (ValueError, UnicodeDecodeError) as exc:
            raise ApiError(400, f"malformed JSON body: {exc}") from None
        if not isinstance(body, dict):
            raise ApiError(400, "the request body must be a JSON object")
        return body

    def time_range(self) -> tuple[datetime, datetime]:
        end = self._time_arg("time_range_end") or datetime.now(timezone.utc)
        start = self._time_arg("time_range_start") or end - timedelta(days=1)
        if start > end:
            raise ApiError(400, "time_range_start is after time_range_end")
        return start, end

    def _time_arg(self, name: str) -> datetime | None:
        value = self.get_query_argument(name, None)
        if not value:
            return None
        try:
            text = value.strip().replace("Z", "+00:00")
            if "T" in text:   # an unencoded "+01:00" offset arrives as " 01:00"
                text = text.replace(" ", "+")
            moment = datetime.fromisoformat(text)
        except ValueError:
            raise ApiError(400, f"{name}: {value!r} is not an ISO 8601 timestamp") from None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=timezone.utc)
        return moment.astimezone(timezone.utc)

    def flag(self, name: str, default: bool) -> bool:
        """A true/false query argument (``parse_flag``)."""
        return parse_flag(name, self.get_query_argument(name, None), default)

    def paging(self, default: int = DEFAULT_LIMIT) -> tuple[int, int]:
        limit = self._int_arg("limit", default, 1, MAX_LIMIT)
        offset = self._int_arg("offset", 0, 0, 10**12)
        return limit, offset

    def _int_arg(self, name, default, low, high) -> int:
        value = self.get_query_argument(name, None)
        if value in (None, ""):
            return default
        try:
            number = int(value)
        except ValueError:
            raise ApiError(400, f"{name} must be a whole number, not {value!r}") from None
        if not low <= number <= high:
            raise ApiError(400, f"{name} must be between {low} and {high}")
        return number


class NotFoundHandler(ApiHandler):
    roles = {method: VIEWER for method in ("get", "post", "put", "delete", "patch", "options",
                                           "head")}

    async def prepare(self):
        await super().prepare()
        raise ApiError(404, f"no such resource: {self.request.path}")
