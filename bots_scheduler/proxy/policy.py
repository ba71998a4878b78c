"""What the proxy decides about a request, as plain functions of its parts (no mitmproxy here).

Kept apart from the addon so the rules read on one page and are tested without a proxy.
"""
from __future__ import annotations

import base64
import binascii
import json
import re
from urllib.parse import quote

from bots_scheduler import browser_policy

SECRET_ENV = "BOTS_SCHEDULER_PROXY_SECRET"   # how the launcher hands the secret to the proxy
PARENT_ENV = "BOTS_SCHEDULER_PARENT_PID"
READY_LINE = "authentication addon ready"
SECRET_HEADER = "X-Bots-Proxy-Secret"
USER_HEADER = "X-Bots-User"
ROLE_HEADER = "X-Bots-Role"
TOKEN_HEADER = "X-Bots-Token"
MAX_TOKEN = 200
_TOKEN = re.compile(r"^[A-Za-z0-9._~+/=-]{1,200}$")
IDENTITY_PREFIX_BYTES = b"x-bots-"
REALM = "Bots Scheduler"

# Every response leaving the proxy carries these, whoever made it: the scheduler's own values
# (or a squatter's on PORT+1) are replaced, never kept.
SECURITY_HEADERS = {**browser_policy.COMMON_HEADERS, browser_policy.HSTS[0]: browser_policy.HSTS[1]}
CONTENT_SECURITY_POLICY = browser_policy.CONTENT_SECURITY_POLICY
# Header lists are handled as mitmproxy keeps them, tuples of (name, value) bytes, and rebuilt in
# one pass: a per-header set/delete rescans the whole list each time.
_SECURITY_FIELDS = tuple((name.encode(), value.encode())
                         for name, value in SECURITY_HEADERS.items())
_SECURITY_NAMES = frozenset(name.lower() for name, _ in _SECURITY_FIELDS)
_NOT_FORWARDED = frozenset({b"authorization", b"x-forwarded-for", b"x-forwarded-proto",
                            b"forwarded"})
STATE_CHANGING = browser_policy.STATE_CHANGING
# What an HTML form (or a "simple" cross-site fetch) can send without a CORS preflight.
FORM_CONTENT_TYPES = frozenset({"application/x-www-form-urlencoded", "multipart/form-data",
                                "text/plain", ""})
CUSTOM_CLIENT_HEADER = "X-Requested-With"
_HOST = re.compile(r"^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(:[0-9]{1,5})?$")
# User names travel percent-encoded so any UTF-8 name survives a latin-1 header.
_USER_SAFE = "".join(chr(c) for c in range(0x20, 0x7F) if chr(c) != "%")


def parse_basic(header: str) -> tuple[str, str] | None:
    """(user, password) from an Authorization header, or None. The password may contain ':'."""
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != "basic" or not token.strip():
        return None
    try:
        decoded = base64.b64decode(token.strip(), validate=True)
    except (binascii.Error, ValueError):
        return None
    try:
        text = decoded.decode("utf-8")
    except UnicodeDecodeError:
        text = decoded.decode("latin-1")  # what older clients send
    user, colon, password = text.partition(":")
    if not colon or not user:
        return None
    return user, password


def parse_bearer(header: str) -> str | None:
    """The token of an ``Authorization: Bearer TOKEN`` header, or None. The proxy does not judge
    it: the scheduler checks it against the tokens table (the proxy has no datastore)."""
    scheme, _, token = header.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not _TOKEN.match(token):
        return None
    return token


def encode_user(user: str) -> str:
    return quote(user, safe=_USER_SAFE)


def https_location(host_header: str | None, path: str) -> str | None:
    """Where a plain-HTTP request is sent, or None when its Host header is unusable."""
    host = (host_header or "").strip()
    if not _HOST.match(host):
        return None
    if not path.startswith("/"):
        path = "/"
    return f"https://{host}{path}"


def own_origin(host_header: str | None) -> str | None:
    host = (host_header or "").strip().lower()
    if not _HOST.match(host):
        return None
    if host.endswith(":443"):
        host = host[:-4]
    return f"https://{host}"


def csrf_refusal(method: str, headers, host_header: str | None) -> str | None:
    """Why a state-changing request may be a cross-site forgery, or None when it is safe.

    Browsers replay Basic credentials on cross-site requests. A request is accepted when the
    browser says it comes from our own origin, or when it is something a cross-site page
    cannot send without a CORS preflight (which never carries credentials, so it fails here):
    a method other than POST, a JSON body, or a custom header.
    """
    if method.upper() not in STATE_CHANGING:
        return None
    origin = headers.get("Origin")
    if origin is not None:
        if origin.strip().lower().rstrip("/") == own_origin(host_header):
            return None
        return f"cross-origin request from {origin[:100]!r} refused"
    fetch_site = headers.get("Sec-Fetch-Site", "").strip().lower()
    if fetch_site in ("cross-site", "same-site"):
        return "cross-site request refused"
    if method.upper() != "POST":
        return None
    content_type = headers.get("Content-Type", "").split(";")[0].strip().lower()
    if content_type not in FORM_CONTENT_TYPES or headers.get(CUSTOM_CLIENT_HEADER):
        return None
    return (f"a POST with content type {content_type or 'none'!r} needs an Origin header of "
            f"this site or an {CUSTOM_CLIENT_HEADER} header (cross-site request forgery "
            f"protection)")


def forwarded_fields(fields: tuple, user: str | None, secret: str, client_ip: str,
                     role: str | None = None, token: str | None = None) -> tuple:
    """The request's headers for the scheduler: the client's identity headers, credentials and
    forwarding claims replaced by the proxy's own: the user and role of Basic credentials, or
    the bearer token for the scheduler to check."""
    kept = tuple(field for field in fields if not _not_forwarded(field[0].lower()))
    if token is not None:
        identity = ((TOKEN_HEADER.encode(), token.encode()),)
    else:
        identity = ((USER_HEADER.encode(), encode_user(user).encode()),
                    (ROLE_HEADER.encode(), (role or "viewer").encode()))
    return kept + identity + ((SECRET_HEADER.encode(), secret.encode()),
                   (b"X-Forwarded-For", client_ip.encode()),
                   (b"X-Forwarded-Proto", b"https"))


def _not_forwarded(name: bytes) -> bool:
    return name in _NOT_FORWARDED or name.startswith(IDENTITY_PREFIX_BYTES)


def secured_fields(fields: tuple) -> tuple:
    """The response's headers with ours in place of any the upstream sent (CSP included)."""
    kept = tuple(field for field in fields if field[0].lower() not in _SECURITY_NAMES)
    return kept + _SECURITY_FIELDS


def error_body(message: str) -> bytes:
    return json.dumps({"error": message}).encode()
