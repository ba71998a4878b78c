"""The mitmproxy addon in front of the scheduler (CONTRACT §5); script.py hands it to mitmdump.

For every request, in order: plain HTTP is redirected to https and goes no further; Basic
credentials are checked against the htpasswd file (401 with a challenge otherwise), each new
check counted as an attempt of the client address *before* it runs, so that an address with too
many attempts in flight or failed gets 429 without a check; a failed login is answered no sooner
than a fixed delay after it arrived, whatever the user and the hash scheme (no timing hint about
which users exist); state-changing requests that a cross-site page could have sent get 403;
then the client's own identity headers are dropped, the user name and the per-start secret are
added, and the request goes to the scheduler, its body streamed when it is large or chunked.
Every response leaving the proxy gets our security headers, the error pages mitmproxy writes
itself (400, 413, 502) included. Passwords are never written to flow metadata or logs.

TLS: the launcher sets the protocol versions and suites (process.py); this addon turns off
renegotiation on every client connection and closes connections whose handshake has not ended
within ``bots_handshake_timeout`` seconds (mitmproxy's own ``tcp_timeout`` closes idle ones).

The secret comes from the environment, not argv: another local user can read a process's
arguments but not its environment.
"""
from __future__ import annotations

import asyncio
import ctypes
import hashlib
import logging
import os
import signal
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from mitmproxy import connection, ctx, exceptions, http, tls
from mitmproxy.net.http import http1
from mitmproxy.proxy.layers.http import _http1
from OpenSSL import SSL

from bots_scheduler.proxy import policy
from bots_scheduler.proxy.credentials import Authenticator
from bots_scheduler.proxy.htgroups import Groups, default_path
from bots_scheduler.proxy.limiter import FailureLimiter
from bots_scheduler.proxy.policy import PARENT_ENV, READY_LINE, SECRET_ENV

log = logging.getLogger("bots_scheduler.proxy")

# A refused request with a larger body is cut off rather than read: the proxy never buffers
# big bodies for clients that have not authenticated.
MAX_REFUSED_BODY = 64 * 1024
# Authenticated bodies above this are streamed to the scheduler instead of held in memory.
STREAM_ABOVE = 1024 * 1024
VERIFY_THREADS = 2
PR_SET_PDEATHSIG = 1      # <linux/prctl.h>
BEARER_ATTEMPT = "bots_bearer_attempt"


class BotsAuth:
    def __init__(self):
        self.secret = os.environ.get(SECRET_ENV)
        self.parent_pid = _int_or_none(os.environ.get(PARENT_ENV))
        self.executor = ThreadPoolExecutor(VERIFY_THREADS, thread_name_prefix="htpasswd")
        self.authenticator: Authenticator | None = None
        self.groups: Groups | None = None
        self.limiter = FailureLimiter()
        self._watch_task = None

    def load(self, loader):
        _http1.make_error_response = _error_response  # see _error_response
        loader.add_option("bots_htpasswd", str, "", "htpasswd file of the users")
        loader.add_option("bots_htgroups", str, "", "group file of the users' roles")
        loader.add_option("bots_max_failures", int, 10,
                          "failed logins from one address that trigger a block")
        loader.add_option("bots_failure_window", int, 60, "seconds over which failures count")
        loader.add_option("bots_block_seconds", int, 60, "how long a blocked address waits")
        loader.add_option("bots_auth_cache_seconds", int, 60,
                          "how long verified credentials are remembered")
        loader.add_option("bots_failure_delay_ms", int, 1000,
                          "a failed login is answered no sooner than this after it arrived")
        loader.add_option("bots_handshake_timeout", int, 10,
                          "seconds a client has to complete its TLS handshake")

    def configure(self, updated):
        if not self.secret:
            raise exceptions.OptionsError(f"{SECRET_ENV} is not set: refusing to run without "
                                          f"the secret shared with the scheduler")
        options = ctx.options
        if "bots_htpasswd" in updated:
            if not options.bots_htpasswd:
                raise exceptions.OptionsError("bots_htpasswd is not set")
            self.authenticator = Authenticator(Path(options.bots_htpasswd), self.executor,
                                               cache_seconds=options.bots_auth_cache_seconds)
            self.authenticator.refresh()
        if "bots_htgroups" in updated:
            self.groups = Groups(options.bots_htgroups or default_path(options.bots_htpasswd))
            self.groups.refresh()
        elif "bots_auth_cache_seconds" in updated and self.authenticator:
            self.authenticator.cache_seconds = options.bots_auth_cache_seconds
        if updated & {"bots_max_failures", "bots_failure_window", "bots_block_seconds"}:
            self.limiter = FailureLimiter(options.bots_max_failures,
                                          options.bots_failure_window,
                                          options.bots_block_seconds)

    def running(self):
        if self.secret and self.authenticator is not None:
            log.info(READY_LINE)  # the launcher waits for this line: servers up, addon configured
        if self.parent_pid is not None and self._watch_task is None:
            _die_with_parent(self.parent_pid)
            self._watch_task = asyncio.get_running_loop().create_task(self._watch_parent())

    def done(self):
        self.executor.shutdown(wait=False, cancel_futures=True)

    def client_connected(self, client: connection.Client) -> None:
        loop = asyncio.get_running_loop()
        loop.call_later(ctx.options.bots_handshake_timeout, self._end_slow_handshake, client)

    def tls_start_client(self, tls_start: tls.TlsData) -> None:
        # runs after mitmproxy's own tlsconfig addon has made the connection (script addons come
        # last); client-initiated renegotiation is a cheap way to make the server work hard
        if tls_start.ssl_conn is not None:
            tls_start.ssl_conn.get_context().set_options(SSL.OP_NO_RENEGOTIATION)

    async def requestheaders(self, flow: http.HTTPFlow) -> None:
        request = flow.request
        if not flow.client_conn.tls_established:
            self._redirect_to_https(flow)
            return
        client = flow.client_conn.peername[0]
        blocked = self.limiter.blocked_for(client)
        if blocked:
            self._too_many(flow, blocked)
            return
        authorization = request.headers.get("Authorization", "")
        token = policy.parse_bearer(authorization)
        if token is not None:
            self._forward_token(flow, client, token)
            return
        credentials = policy.parse_basic(authorization)
        if credentials is None:
            self._challenge(flow, "authentication required")
            return
        user, password = credentials
        if not await self._authenticate(flow, client, user, password):
            return
        refusal = policy.csrf_refusal(request.method, request.headers, request.host_header)
        if refusal:
            self._refuse(flow, 403, refusal)
            return
        self._forward_as(flow, user)
        if _is_chunked(request) or _declared_body_size(request) > STREAM_ABOVE:
            request.stream = True  # chunked bodies too: their size is unknown until the end

    def _forward_token(self, flow: http.HTTPFlow, client: str, token: str) -> None:
        """A bearer token goes to the scheduler, which knows the tokens; its answer (401 for a
        bad token) ends the attempt in ``responseheaders``, so guessing is rate-limited too."""
        request = flow.request
        attempt = b"bearer:" + hashlib.sha256(token.encode()).digest()
        wait = self.limiter.begin(client, attempt)
        if wait:
            self._too_many(flow, wait)
            return
        flow.metadata[BEARER_ATTEMPT] = attempt     # a hash, never the token
        refusal = policy.csrf_refusal(request.method, request.headers, request.host_header)
        if refusal:
            self.limiter.end(client, attempt, True)
            del flow.metadata[BEARER_ATTEMPT]
            self._refuse(flow, 403, refusal)
            return
        request.headers.fields = policy.forwarded_fields(
            request.headers.fields, None, self.secret, client, token=token)
        if _declared_body_size(request) > STREAM_ABOVE:
            request.stream = True

    def _end_bearer_attempt(self, flow: http.HTTPFlow, ok: bool) -> None:
        attempt = flow.metadata.pop(BEARER_ATTEMPT, None)
        if attempt is not None:
            self.limiter.end(flow.client_conn.peername[0], attempt, ok)

    def error(self, flow: http.HTTPFlow) -> None:
        self._end_bearer_attempt(flow, True)     # the scheduler did not judge it

    async def _authenticate(self, flow: http.HTTPFlow, client: str, user: str,
                            password: str) -> bool:
        """True when the credentials are good; otherwise the flow has its answer (401/429)."""
        key = self.authenticator.attempt_key(user, password)
        if self.authenticator.remembered(key):
            return True
        wait = self.limiter.begin(client, key)  # counted now, before the check: no race
        if wait:
            self._too_many(flow, wait)
            return False
        loop = asyncio.get_running_loop()
        arrived = loop.time()
        ok = False
        try:
            ok = await self._check(user, password)
        finally:
            self.limiter.end(client, key, ok)
        if ok:
            return True
        # a password typed into the user field must not end up in the log
        shown = repr(user) if self.authenticator.has_user(user) else "(unknown user)"
        log.warning("login failed for %s from %s", shown, client)
        # the same answer time for every failure: unknown users, apr1/SHA1 entries (fast) and
        # bcrypt ones (slow) cannot be told apart by a stopwatch
        left = ctx.options.bots_failure_delay_ms / 1000 - (loop.time() - arrived)
        if left > 0:
            await asyncio.sleep(left)
        self._challenge(flow, "wrong user name or password")
        return False

    def _too_many(self, flow: http.HTTPFlow, wait: float) -> None:
        self._refuse(flow, 429, "too many failed logins from this address; try again later",
                     {"Retry-After": str(int(wait) + 1)})

    def _end_slow_handshake(self, client: connection.Client) -> None:
        if client.tls_established or client.timestamp_end is not None:
            return
        # mitmproxy has no public call to close a client connection; its connection handler's
        # inactivity path does exactly that (and logs it), so that is what we call
        handler = ctx.master.addons.get("proxyserver").connections.get(client.id)
        if handler is not None:
            log.debug("closing %s: no TLS handshake within %ss", client.peername,
                      ctx.options.bots_handshake_timeout)
            asyncio.ensure_future(handler.on_timeout())

    def responseheaders(self, flow: http.HTTPFlow) -> None:
        # also runs for the responses this addon makes (mitmproxy emulates it for them)
        if flow.response is not None:
            self._end_bearer_attempt(flow, flow.response.status_code != 401)
        add_security_headers(flow.response)

    async def _check(self, user: str, password: str) -> bool:
        try:
            return await self.authenticator.check(user, password)
        except Exception:
            log.exception("password check failed")
            return False

    def _forward_as(self, flow: http.HTTPFlow, user: str) -> None:
        request = flow.request
        role = self.groups.role(user) if self.groups is not None else None
        request.headers.fields = policy.forwarded_fields(
            request.headers.fields, user, self.secret, flow.client_conn.peername[0], role=role)

    def _redirect_to_https(self, flow: http.HTTPFlow) -> None:
        location = policy.https_location(flow.request.host_header, flow.request.path)
        if location is None:
            self._refuse(flow, 400, "this server only speaks HTTPS")
        else:
            self._refuse(flow, 308, "this server only speaks HTTPS", {"Location": location})

    def _challenge(self, flow: http.HTTPFlow, message: str) -> None:
        challenge = f'Basic realm="{policy.REALM}", charset="UTF-8"'
        self._refuse(flow, 401, message, {"WWW-Authenticate": challenge})

    def _refuse(self, flow: http.HTTPFlow, status: int, message: str, headers=None) -> None:
        if _declared_body_size(flow.request) > MAX_REFUSED_BODY:
            flow.kill()
            return
        flow.request.stream = False  # never stream a request we answer ourselves
        flow.response = http.Response.make(
            status, policy.error_body(message),
            {"Content-Type": "application/json", "Cache-Control": "no-store", **(headers or {})})
        add_security_headers(flow.response)

    async def _watch_parent(self):
        """Exit when the launcher is gone, even if it was killed without stopping us."""
        while True:
            await asyncio.sleep(0.5)
            if os.getppid() != self.parent_pid:
                log.error("the scheduler launcher (pid %s) is gone; stopping the proxy",
                          self.parent_pid)
                ctx.master.shutdown()
                return


def _die_with_parent(parent_pid: int) -> None:
    """Linux: the kernel kills this process as soon as the launcher dies (a SIGKILLed launcher
    releases PORT+1 at once; the proxy must not forward there a moment longer, which the
    half-second watch alone would allow). The watch stays for other systems. The kernel
    watches the launcher's thread that started us: ProxyProcess.start runs on its main thread."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        return
    if os.getppid() != parent_pid:       # the launcher died before the call: go now
        os.kill(os.getpid(), signal.SIGKILL)


def add_security_headers(response: http.Response | None) -> None:
    if response is not None:
        response.headers.fields = policy.secured_fields(response.headers.fields)


def _error_response(status_code: int, message: str = "") -> bytes:
    """The error pages mitmproxy writes itself (a malformed request: 400, a body above
    body_size_limit: 413, the scheduler unreachable: 502), as ours: JSON with our headers.

    mitmproxy builds them in its HTTP/1 layer without calling any addon, so its module function
    is replaced (the client side speaks HTTP/1 only: process.py turns HTTP/2 off, whose error
    pages could not be reached this way).
    """
    response = http.Response.make(
        status_code, policy.error_body(message or "the request could not be handled"),
        {"Content-Type": "application/json", "Cache-Control": "no-store",
         "Connection": "close"})
    add_security_headers(response)
    return http1.assemble_response(response)


def _is_chunked(request: http.Request) -> bool:
    return "chunked" in request.headers.get("Transfer-Encoding", "").lower()


def _declared_body_size(request: http.Request) -> int:
    if _is_chunked(request):
        return MAX_REFUSED_BODY + 1  # unknown length: assume large
    try:
        return int(request.headers.get("Content-Length", "0"))
    except ValueError:
        return MAX_REFUSED_BODY + 1


def _int_or_none(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None

