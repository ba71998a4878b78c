"""What browsers are told, and what a browser's request must look like: one page of rules shared
by the authentication proxy (CONTRACT §5) and --local mode (CONTRACT §6, last bullet).

Plain functions of header values (no Tornado, no mitmproxy), so both edges apply the same rules
and they are tested without a server.
"""
from __future__ import annotations

import re

# The UI needs no inline script or style and loads nothing from elsewhere; reports are shown in
# a sandboxed srcdoc frame (which inherits this policy) with the UI's own stylesheet and data:
# images. tests/ui/test_csp.py checks the UI under the same directives.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; frame-src 'self'; object-src 'none'; "
    "base-uri 'self'; form-action 'self'; frame-ancestors 'none'")
# Sent on every response, whoever made it (the scheduler's own values are replaced).
COMMON_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
}
# Only over HTTPS (the proxy): browsers ignore it on http:// and it would be wrong there.
HSTS = ("Strict-Transport-Security", "max-age=31536000")

STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
LOCAL_HOST_NAMES = frozenset({"127.0.0.1", "localhost", "[::1]"})
_HOST = re.compile(r"^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(:[0-9]{1,5})?$")


def split_host(host_header: str | None) -> tuple[str, str] | None:
    """(lower-case name, ':port' or '') of a Host header, or None when it is not one."""
    host = (host_header or "").strip().lower()
    match = _HOST.match(host)
    if not match:
        return None
    return match.group(1), match.group(2) or ""


def local_refusal(method: str, host_header: str | None, origin: str | None,
                  fetch_site: str | None, content_type: str | None,
                  json_body: bool) -> str | None:
    """Why --local refuses a request (403), or None. CONTRACT §6, last bullet:

    - any request whose Host name is not 127.0.0.1, localhost or [::1] (any port, so an SSH
      tunnel works): a DNS-rebinding page reaches us under its own name and is refused;
    - a state-changing request whose Origin is not ``http://HOST`` (the request's own Host), or
      that the browser marks ``Sec-Fetch-Site: cross-site``;
    - a call with a JSON body whose Content-Type is not application/json: a cross-site page can
      only send text/plain, form or multipart bodies without a CORS preflight, and we answer no
      preflight.
    """
    host = split_host(host_header)
    if host is None or host[0] not in LOCAL_HOST_NAMES:
        return "this server answers only to 127.0.0.1, localhost or [::1] (Host header refused)"
    if method.upper() not in STATE_CHANGING:
        return None
    if (fetch_site or "").strip().lower() == "cross-site":
        return "cross-site request refused"
    if origin is not None:
        name, port = host
        if origin.strip().lower().rstrip("/") != f"http://{name}{port}":
            return f"cross-origin request from {origin[:100]!r} refused"
    if json_body and media_type(content_type) != "application/json":
        return "this call takes a JSON body: Content-Type must be application/json"
    return None


def media_type(content_type: str | None) -> str:
    return (content_type or "").split(";")[0].strip().lower()
