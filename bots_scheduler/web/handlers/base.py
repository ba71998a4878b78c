"""What every API handler shares: JSON errors, the user, the worker pool, time ranges, paging.

Bodies are streamed (``stream_request_body``) so that ``prepare`` runs on the headers alone:
a request that bypassed the proxy, that --local refuses as coming from another web page, or
whose declared size is above the handler's limit is answered before one byte of its body is
read; a chunked body is cut off (connection closed) as soon as it passes the limit. The body
of an accepted request is gathered in ``data_received`` and read with ``body()``/``json_body()``.
"""
from __future__ import annotations

import hmac
import json
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from urllib.parse import unquote

import tornado.ioloop
import tornado.web

from bots_scheduler import browser_policy, jsontext
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
# JSON documents deeper than this are refused (400): nothing of ours nests more than a few
# levels, and Python's parser would fail with a RecursionError (a 500) a little further down
MAX_JSON_DEPTH = 64
TRUE_WORDS = ("true", "1", "yes", "on")
FALSE_WORDS = ("false", "0", "no", "off")

__all__ = ["ApiError", "ApiHandler", "BaseHandler", "RefusedUnread", "parse_flag"]


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


def local_mode_refusal(app, handler) -> None:
    """--local: 403 for a request another web page could have made (CONTRACT §6, last bullet,
    browser_policy.local_refusal): foreign Host, cross-site state change, JSON call without
    application/json."""
    if app.proxy_secret is not None:
        return
    request = handler.request
    headers = request.headers
    refusal = browser_policy.local_refusal(
        request.method, headers.get("Host"), headers.get("Origin"),
        headers.get("Sec-Fetch-Site"), headers.get("Content-Type"),
        json_body=handler.takes_json and _has_body(request))
    if refusal:
        raise ApiError(403, refusal)


def _has_body(request) -> bool:
    length = request.headers.get("Content-Length")
    return "chunked" in request.headers.get("Transfer-Encoding", "").lower() or \
        (length is not None and length.strip() not in ("", "0"))


class RefusedUnread(ApiError):
    """A refusal answered before the body is read, the connection then closed: a request that
    bypassed the proxy, or a body declared larger than the route takes."""


async def refuse_early(handler, check) -> None:
    """Runs ``check`` on the headers alone. A ``RefusedUnread`` is answered at once (the body is
    never read; Tornado closes the connection). Any other refusal (a role, --local's cross-site
    rules, a bad token) is answered once the request's body, already bounded by the route's
    limit, has been read and dropped: the client then gets the JSON error rather than a reset,
    and the connection stays usable (for the proxy's next request too)."""
    try:
        await check()
    except RefusedUnread:
        raise
    except Exception:
        handler.dropping_body = True
        prepared = getattr(handler, "_prepared_future", None)
        body_read = getattr(handler.request, "_body_future", None)
        if prepared is not None and body_read is not None:    # Tornado's streaming hand-off
            if not prepared.done():
                prepared.set_result(None)     # Tornado goes on reading the body...
            try:
                await body_read               # ...to its end (data_received drops it)
            except Exception:                 # the client left meanwhile
                pass
        raise


def came_through_proxy(app, request) -> bool:
    """True in --local mode, or when the request carries the proxy's per-start secret."""
    if app.proxy_secret is None:
        return True
    given = request.headers.get(SECRET_HEADER, "")
    return hmac.compare_digest(given.encode(), app.proxy_secret.encode())


@dataclass(frozen=True)
class Access:
    """What the web layer knows to let a request in: the proxy's per-start secret (None:
    --local), the local user (--local's one user) and the API tokens."""
    proxy_secret: str | None
    local_user: str
    tokens: object


@dataclass(frozen=True)
class Identity:
    user: str
    role: str


async def authorize(handler) -> Identity:
    """Who calls, and may they: 403 for a request that bypassed the proxy, 401 for a bad
    bearer token, 403 naming the role needed when the caller's is lower.  Nothing has been
    read or changed yet when this refuses (upload bodies included: it runs in ``prepare``)."""
    app: Access = handler.settings["access"]
    request = handler.request
    if not came_through_proxy(app, request):
        raise ApiError(403, "forbidden: use the authentication proxy")
    local_mode_refusal(app, handler)
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


@tornado.web.stream_request_body
class BaseHandler(tornado.web.RequestHandler):
    """Refuses requests that bypass the proxy while it is in use or that the caller's role does
    not allow (``roles``: the least role per method, shown by the OpenAPI document), and bodies
    above ``max_body``, all before the body is read."""

    roles: dict[str, str] = {}
    identity: Identity | None = None
    max_body = 64 * 1024          # bytes of body accepted (the UI's routes take none)
    takes_json = False            # a body is a JSON document (--local: needs application/json)

    def initialize(self, **collaborators) -> None:
        """The collaborators this route's handler uses (declared on its class), given by
        ``routes()`` in web/server.py."""
        for name, value in collaborators.items():
            setattr(self, name, value)

    async def prepare(self):
        self._body_parts: list[bytes] = []
        self._body_size = 0
        await refuse_early(self, self._check_request)

    async def _check_request(self):
        if not came_through_proxy(self.settings["access"], self.request):
            raise RefusedUnread(403, "forbidden: use the authentication proxy")
        self.limit_body(self.body_limit())
        self.identity = await authorize(self)

    def body_limit(self) -> int:
        return self.max_body

    def limit_body(self, limit: int) -> None:
        """413 now when the declared size is above ``limit``; a chunked body is cut off by
        Tornado once it passes it."""
        length = self.request.headers.get("Content-Length", "").strip()
        if length.isdigit() and int(length) > limit:
            # answered before the body is read (Tornado then closes the connection); the
            # connection's own cap is raised so that Tornado does not refuse it first, silently
            self.request.connection.set_max_body_size(int(length))
            raise RefusedUnread(413, f"request body larger than {limit} bytes")
        self.request.connection.set_max_body_size(limit)

    dropping_body = False         # set while the body of a refused request is read

    def data_received(self, chunk: bytes):
        if self.dropping_body:
            return
        self._body_size += len(chunk)
        if self._body_size <= self.max_body:     # (Tornado enforces it; belt and braces)
            self._body_parts.append(chunk)

    def body(self) -> bytes:
        parts = getattr(self, "_body_parts", ())
        return parts[0] if len(parts) == 1 else b"".join(parts)

    @property
    def user(self) -> str:
        return self.identity.user if self.identity else "unknown"

    @property
    def role(self) -> str:
        return self.identity.role if self.identity else VIEWER

    def set_default_headers(self):
        self.set_header("Cache-Control", "no-store")
        # the same headers as through the proxy (CONTRACT §6: --local too); HSTS is the
        # proxy's alone (https)
        for name, value in browser_policy.COMMON_HEADERS.items():
            self.set_header(name, value)

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
    takes_json = True

    def set_default_headers(self):
        super().set_default_headers()
        self.set_header("Content-Type", "application/json; charset=UTF-8")

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
        # through the proxy the body is read as JSON whatever its declared type (ndscheduler
        # clients vary; the proxy's CSRF check stops cross-site form posts); --local insists on
        # application/json (local_mode_refusal)
        too_deep = f"the JSON body is nested more than {MAX_JSON_DEPTH} levels deep"
        try:
            body = json.loads(self.body() or b"{}")
        except (ValueError, UnicodeDecodeError) as exc:
            raise ApiError(400, f"malformed JSON body: {exc}") from None
        except RecursionError:       # the parser's own limit, far above ours
            raise ApiError(400, too_deep) from None
        if nested_deeper_than(body, MAX_JSON_DEPTH):
            raise ApiError(400, too_deep)
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

    def _not_found(self, *args, **kwargs):
        raise ApiError(404, f"no such resource: {self.request.path}")

    get = post = put = delete = patch = options = head = _not_found


def nested_deeper_than(value, limit: int) -> bool:
    """Whether lists and objects nest more than ``limit`` levels (walked without recursion)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children
                     if isinstance(child, (dict, list)))
    return False
