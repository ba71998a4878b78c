"""Local HTTP servers that answer like the services the built-in jobs query.

Each fake speaks the documented API of its service for what the jobs use, including the error
answers (401 bad credentials, 402/403 plan limits, 429 with Retry-After, 5xx), and records every
request it receives so that tests can check what left the machine.  ``force`` queues raw answers
that are given before the normal ones; ``delay`` makes every answer late (timeouts).
"""
from __future__ import annotations

import base64
import hashlib
import ipaddress
import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit


@dataclass
class Seen:
    method: str
    path: str
    query: dict
    headers: dict
    body: bytes

    def arg(self, name, default=None):
        return self.query.get(name, [default])[0]


def answer(status, body=None, headers=None):
    """(status, headers, bytes): JSON for dicts and lists, text for strings, empty for None."""
    headers = dict(headers or {})
    if isinstance(body, (dict, list)):
        payload = json.dumps(body).encode()
        headers.setdefault("Content-Type", "application/json; charset=utf-8")
    elif isinstance(body, str):
        payload = body.encode()
        headers.setdefault("Content-Type", "text/plain; charset=utf-8")
    else:
        payload = b""
    return status, headers, payload


class FakeService:
    prefix = ""

    def __init__(self):
        self.seen: list[Seen] = []
        self.forced: list[tuple] = []
        self.scripted: dict[int, tuple] = {}   # request number (1-based) -> answer
        self.delay = 0.0
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_class(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,),
                                        daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}{self.prefix}"

    def start(self):
        self._thread.start()
        return self

    def stop(self):
        self._server.shutdown()
        self._server.server_close()

    def force(self, status, body=None, headers=None, times=1):
        with self._lock:
            self.forced.extend([answer(status, body, headers)] * times)

    def force_at(self, number, status, body=None, headers=None):
        """Answer the ``number``-th request (counting from 1) with this answer."""
        with self._lock:
            self.scripted[number] = answer(status, body, headers)

    def paths(self) -> list[str]:
        return [seen.path for seen in self.seen]

    def handle(self, seen: Seen):
        with self._lock:
            self.seen.append(seen)
            forced = self.scripted.pop(len(self.seen), None)
            if forced is None and self.forced:
                forced = self.forced.pop(0)
        if self.delay:
            time.sleep(self.delay)
        if forced is not None:
            return forced
        path = seen.path[len(self.prefix):] if seen.path.startswith(self.prefix) else None
        if path is None:
            return answer(404, {"error": "no such API"})
        return self.respond(seen, path)

    def respond(self, seen: Seen, path: str):
        raise NotImplementedError


def _handler_class(service: FakeService):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _serve(self):
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            seen = Seen(self.command, unquote(parts.path), parse_qs(parts.query),
                        {k.lower(): v for k, v in self.headers.items()}, body)
            status, headers, payload = service.handle(seen)
            try:
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
            except OSError:
                pass   # the client gave up (timeout tests)

        do_GET = do_POST = _serve

        def log_message(self, *args):
            pass

    return Handler


def _in_network(ip, network) -> bool:
    return ipaddress.ip_address(ip) in ipaddress.ip_network(network, strict=False)


# -- Shodan (https://developer.shodan.io/api) -------------------------------------------------
class FakeShodan(FakeService):
    def __init__(self, key="shodan-key", hosts=()):
        super().__init__()
        self.key = key
        self.hosts = {host["ip_str"]: host for host in hosts}

    def respond(self, seen, path):
        if seen.arg("key") != self.key:
            return answer(401, {"error": "Invalid API key"})
        if path.startswith("/shodan/host/search"):
            return self._search(seen)
        if path.startswith("/shodan/host/"):
            ip = path.rsplit("/", 1)[1]
            if ip in self.hosts:
                return answer(200, self.hosts[ip])
            return answer(404, {"error": "No information available for that IP."})
        return answer(404, {"error": "Not found"})

    def _search(self, seen):
        query = seen.arg("query", "")
        if not query.startswith("net:"):
            return answer(400, {"error": "Invalid search query"})
        network = query[4:]
        banners = [dict(banner, ip_str=ip, hostnames=host.get("hostnames", []),
                        org=host.get("org"))
                   for ip, host in sorted(self.hosts.items()) if _in_network(ip, network)
                   for banner in host.get("data", [])]
        page = int(seen.arg("page", "1"))
        return answer(200, {"matches": banners[(page - 1) * 100:page * 100],
                            "total": len(banners), "facets": {}})


def shodan_host(ip, ports, hostnames=(), vulns=(), org="Example Org"):
    """A host record as GET /shodan/host/{ip} returns it."""
    data = [{"ip_str": ip, "port": port, "transport": "tcp", "product": product,
             "version": version, "data": banner, "timestamp": "2024-05-01T10:00:00.000000",
             "_shodan": {"module": "http" if port in (80, 443) else "ssh"},
             **({"vulns": {cve: {"cvss": 7.5, "verified": False} for cve in vulns}}
                if port == ports[0][0] and vulns else {})}
            for port, product, version, banner in ports]
    return {"ip_str": ip, "hostnames": list(hostnames), "org": org, "isp": "Example ISP",
            "asn": "AS64500", "os": None, "country_name": "Iceland",
            "last_update": "2024-05-01T10:00:00.000000", "ports": [p[0] for p in ports],
            "vulns": list(vulns), "data": data}


# -- Censys Search 2.0 (https://search.censys.io/api) ----------------------------------------
class FakeCensys(FakeService):
    prefix = "/api"

    def __init__(self, api_id="censys-id", secret="censys-secret", hosts=(), certificates=()):
        super().__init__()
        self.credentials = (api_id, secret)
        self.hosts = {host["ip"]: host for host in hosts}
        self.certificates = list(certificates)
        self.page_size = None      # the service may give fewer hits a page than asked

    def _authorised(self, seen) -> bool:
        auth = seen.headers.get("authorization", "")
        if not auth.startswith("Basic "):
            return False
        user, _, secret = base64.b64decode(auth[6:]).decode().partition(":")
        return (user, secret) == self.credentials

    def respond(self, seen, path):
        if not self._authorised(seen):
            return answer(401, {"code": 401, "status": "Unauthorized",
                                "error": "You must authenticate with a valid API ID and secret."})
        if path == "/v2/hosts/search":
            return self._page(seen, self._hosts_matching(seen.arg("q", "")))
        if path == "/v2/certificates/search":
            query = seen.arg("q", "")
            domain = query.partition(":")[2].strip()
            hits = [cert for cert in self.certificates
                    if any(name == domain or name.endswith("." + domain)
                           for name in cert["names"])]
            return self._page(seen, hits)
        if path.startswith("/v2/hosts/"):
            ip = path.rsplit("/", 1)[1]
            if ip in self.hosts:
                return answer(200, {"code": 200, "status": "OK", "result": self.hosts[ip]})
            return answer(404, {"code": 404, "status": "Not Found",
                                "error": f"The requested host {ip} was not found."})
        return answer(404, {"code": 404, "status": "Not Found", "error": "Unknown endpoint"})

    def _hosts_matching(self, query):
        field, _, value = query.partition(":")
        value = value.strip().strip('"')
        if field == "ip":
            return [h for ip, h in sorted(self.hosts.items()) if _in_network(ip, value)]
        if field == "services.tls.certificates.leaf_data.names":
            return [h for h in self.hosts.values()
                    if any(n == value or n.endswith("." + value) for n in h.get("_tls_names", []))]
        return []

    def _page(self, seen, hits):
        per_page = min(int(seen.arg("per_page", "50")), self.page_size or 100)
        start = int(seen.arg("cursor") or 0)
        page = [{k: v for k, v in hit.items() if not k.startswith("_")}
                for hit in hits[start:start + per_page]]
        following = str(start + per_page) if start + per_page < len(hits) else ""
        return answer(200, {"code": 200, "status": "OK", "result": {
            "query": seen.arg("q"), "total": len(hits), "duration": 12, "hits": page,
            "links": {"prev": "", "next": following}}})


def censys_host(ip, services, names=(), tls_names=()):
    return {"ip": ip, "services": [
        {"port": port, "service_name": name, "extended_service_name": name,
         "transport_protocol": "TCP", "banner": banner,
         "software": [{"product": product, "version": "1.0"}] if product else []}
        for port, name, product, banner in services],
        "location": {"country": "Iceland"},
        "autonomous_system": {"asn": 64500, "name": "EXAMPLE-AS"},
        "dns": {"names": list(names)}, "last_updated_at": "2024-05-01T10:00:00Z",
        "_tls_names": list(tls_names)}


# -- Have I Been Pwned API v3 (https://haveibeenpwned.com/API/v3) -----------------------------
class FakeHIBP(FakeService):
    prefix = "/api/v3"

    def __init__(self, key="hibp-key", breaches=(), accounts=None, domains=None):
        super().__init__()
        self.key = key
        self.breaches = {breach["Name"]: breach for breach in breaches}
        self.accounts = dict(accounts or {})       # address -> [breach names]
        self.domains = dict(domains or {})         # domain -> {alias: [breach names]}

    def respond(self, seen, path):
        if not seen.headers.get("user-agent"):
            return answer(403, "Forbidden: a user agent is required")
        key = seen.headers.get("hibp-api-key")
        needs_key = path.startswith(("/breachedaccount/", "/breacheddomain/"))
        if needs_key and key != self.key:
            why = "missing" if not key else "invalid"
            return answer(401, {"statusCode": 401,
                                "message": f"Access denied due to {why} hibp-api-key."})
        if path.startswith("/breachedaccount/"):
            names = self.accounts.get(path.split("/", 2)[2].lower())
            if not names:
                return answer(404)
            if seen.arg("truncateResponse", "true") == "false":
                return answer(200, [self.breaches[n] for n in names])
            return answer(200, [{"Name": n} for n in names])
        if path.startswith("/breacheddomain/"):
            found = self.domains.get(path.split("/", 2)[2])
            return answer(200, found) if found else answer(404)
        if path == "/breaches":
            domain = seen.arg("domain")
            return answer(200, [b for b in self.breaches.values()
                                if not domain or b.get("Domain") == domain])
        if path.startswith("/breach/"):
            breach = self.breaches.get(path.split("/", 2)[2])
            return answer(200, breach) if breach else answer(404)
        return answer(404)


def hibp_breach(name, domain, date, count, classes, **flags):
    return {"Name": name, "Title": name, "Domain": domain, "BreachDate": date,
            "AddedDate": f"{date}T00:00:00Z", "ModifiedDate": f"{date}T00:00:00Z",
            "PwnCount": count, "Description": f"<p>{name} was breached.</p>",
            "LogoPath": "", "DataClasses": list(classes), "IsVerified": True,
            "IsFabricated": False, "IsSensitive": False, "IsRetired": False,
            "IsSpamList": False, "IsMalware": False, "IsSubscriptionFree": False,
            "IsStealerLog": False, **flags}


# -- Pwned Passwords (https://haveibeenpwned.com/API/v3#PwnedPasswords) -----------------------
class FakePwnedPasswords(FakeService):
    PADDING = 5

    def __init__(self, pwned=None):
        super().__init__()
        self.hashes = {hashlib.sha1(p.encode()).hexdigest().upper(): n
                       for p, n in (pwned or {}).items()}

    def respond(self, seen, path):
        if not path.startswith("/range/"):
            return answer(404, "Not found")
        prefix = path[len("/range/"):].upper()
        if len(prefix) != 5 or any(c not in "0123456789ABCDEF" for c in prefix):
            return answer(400, "The hash prefix was not in a valid format")
        lines = [f"{h[5:]}:{n}" for h, n in self.hashes.items() if h.startswith(prefix)]
        if seen.headers.get("add-padding", "").lower() == "true":
            lines += [f"{hashlib.sha1(f'pad{prefix}{i}'.encode()).hexdigest().upper()[5:]}:0"
                      for i in range(self.PADDING)]
        lines.append("0018A45C4D1DEF81644B54AB7F969B88D65:3")   # a stranger's suffix
        return answer(200, "\r\n".join(lines))
