"""Shodan — hosts and open services check, with the official ``shodan`` library.

Single addresses are looked up with ``Shodan.host`` (GET /shodan/host/{ip}); networks with a
``net:`` search (GET /shodan/host/search, which uses query credits).  docs/jobs/shodan.md says
what is sent.
"""
from __future__ import annotations

import ipaddress

import requests
import shodan

from bots_scheduler.jobs.base import JobBase, JobFailed
from bots_scheduler.jobs.builtin._inputs import bad_lines_section, parse_networks, read_lines
from bots_scheduler.jobs.builtin._service import (MAX_RETRIES, MAX_RETRY_AFTER, RETRY_STATUSES,
                                                  ServiceError, Stopped, base_url,
                                                  describe_answer, failure, network_failure,
                                                  request_timeout, retry_after_seconds,
                                                  summary_table, wait_or_stop)
from bots_scheduler.jobs.finding import Finding
from bots_scheduler.jobs.builtin._findings import findings_section, port_key
from bots_scheduler.jobs.report import Code, Section, Subsection, Table, Text, report

URL_VARIABLE = "BOTS_SCHEDULER_SHODAN_URL"
DEFAULT_URL = "https://api.shodan.io"
MAX_SEARCH_PAGES = 10          # 100 banners a page; each page of a net: search costs a credit
BANNER_CHARS = 2000


class _TimeoutAdapter(requests.adapters.HTTPAdapter):
    """Gives every request a timeout: the shodan library sets none."""

    def __init__(self, timeout, **kwargs):
        super().__init__(**kwargs)
        self.timeout = timeout

    def send(self, request, **kwargs):
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self.timeout
        return super().send(request, **kwargs)


class ShodanClient:
    """``shodan.Shodan`` pointed at our base URL, with timeouts and bounded 429 retries."""

    def __init__(self, api_key, url, timeout, stop_event=None):
        self.api = shodan.Shodan(api_key)
        self.api.base_url = url
        self.timeout = timeout
        self.stop_event = stop_event
        self.last_response = None
        # The library offers neither a timeout nor the HTTP status of a failure; both are
        # configured on the requests session it uses (no library code is replaced).
        session = self.api._session
        for prefix in ("http://", "https://"):
            session.mount(prefix, _TimeoutAdapter(timeout))
        session.hooks["response"].append(self._remember)

    def _remember(self, response, *args, **kwargs):
        self.last_response = response

    def host(self, ip: str):
        """The host's record, or None when Shodan has no information on it."""
        return self._call(self.api.host, ip)

    def search(self, query: str, page: int):
        return self._call(self.api.search, query, page=page, minify=False)

    def _call(self, method, *args, **kwargs):
        for attempt in range(MAX_RETRIES + 1):
            if self.stop_event is not None and self.stop_event.is_set():
                raise Stopped("stopped before the next request")
            self.last_response = None
            try:
                return method(*args, **kwargs)
            except shodan.APIError as exc:
                response = self.last_response
                status = response.status_code if response is not None else None
                if status == 404:
                    return None
                delay = retry_after_seconds(response.headers.get("Retry-After")) \
                    if response is not None else None
                if status in RETRY_STATUSES and delay is not None and delay <= MAX_RETRY_AFTER \
                        and attempt < MAX_RETRIES:
                    wait_or_stop(max(delay, 0.1), self.stop_event)
                    continue
                raise ServiceError("Shodan", self._explain(exc, response), status) from None
        raise AssertionError("unreachable")

    def _explain(self, exc, response):
        if response is None:
            cause = exc.__context__
            if isinstance(cause, requests.Timeout):
                return f"no answer within {self.timeout:g} s"
            if cause is not None:
                return f"cannot reach {self.api.base_url}: {network_failure(cause)}"
            return str(exc)
        said = describe_answer(response) or str(exc)
        return f"HTTP {response.status_code}: {said}"


def _ip_key(ip: str):
    address = ipaddress.ip_address(ip)
    return address.version, int(address)


def _merge_banners(banners) -> dict:
    """Search results (one banner per service) grouped into host records like ``host()``'s."""
    hosts: dict[str, dict] = {}
    for banner in banners:
        ip = banner.get("ip_str")
        if not ip:
            continue
        host = hosts.setdefault(ip, {"ip_str": ip, "hostnames": [], "ports": [], "vulns": [],
                                     "data": [], "org": banner.get("org"),
                                     "isp": banner.get("isp"), "asn": banner.get("asn"),
                                     "os": banner.get("os"),
                                     "country_name": (banner.get("location") or {})
                                     .get("country_name"),
                                     "last_update": banner.get("timestamp")})
        host["data"].append(banner)
        for name in banner.get("hostnames") or []:
            if name not in host["hostnames"]:
                host["hostnames"].append(name)
        if banner.get("port") is not None and banner["port"] not in host["ports"]:
            host["ports"].append(banner["port"])
        for cve in banner.get("vulns") or {}:
            if cve not in host["vulns"]:
                host["vulns"].append(cve)
        if (banner.get("timestamp") or "") > (host["last_update"] or ""):
            host["last_update"] = banner["timestamp"]
    return hosts


def _service_name(banner) -> str:
    parts = [banner.get("product"), banner.get("version")]
    name = " ".join(str(part) for part in parts if part)
    module = (banner.get("_shodan") or {}).get("module")
    return name or module or ""


def _banner_vulns(banner) -> list[str]:
    return sorted(banner.get("vulns") or {})


def _host_findings(host) -> dict:
    banners = sorted(host.get("data") or [], key=lambda b: (b.get("port") or 0,
                                                            b.get("transport") or ""))
    return {
        "ports": sorted({int(p) for p in host.get("ports") or []}
                        | {int(b["port"]) for b in banners if b.get("port") is not None}),
        "hostnames": sorted(set(host.get("hostnames") or [])),
        "vulns": sorted(set(host.get("vulns") or [])
                        | {cve for b in banners for cve in _banner_vulns(b)}),
        "services": sorted({f"{b.get('port')}/{b.get('transport') or 'tcp'} {_service_name(b)}"
                            .strip() for b in banners}),
    }


def port_findings(ip: str, host) -> list[Finding]:
    """One ``open-port`` finding per port and transport of the host.  Details are what names
    the service (product, version, vulnerabilities), not what changes every scan (banners,
    timestamps), so that a run sees a port ``changed`` only when its service did."""
    banners = {}
    for banner in host.get("data") or []:
        if banner.get("port") is not None:
            banners.setdefault((int(banner["port"]), (banner.get("transport") or "tcp")
                                .lower()), banner)
    for port in host.get("ports") or []:
        if not any(key[0] == int(port) for key in banners):
            banners[(int(port), "tcp")] = {}
    findings = []
    for (port, transport), banner in sorted(banners.items()):
        vulns = _banner_vulns(banner)
        details = {name: banner[name] for name in ("product", "version")
                   if isinstance(banner.get(name), str) and banner[name]}
        if vulns:
            details["vulns"] = vulns
        findings.append(Finding("open-port", port_key(ip, port, transport),
                                _service_name(banner) or None,
                                "high" if vulns else "info", **details))
    return findings


def _host_section(ip, host, findings):
    facts = [
        ["hostnames", ", ".join(findings["hostnames"]) or "-"],
        ["organisation", host.get("org") or "-"],
        ["ISP / ASN", " / ".join(str(v) for v in (host.get("isp"), host.get("asn")) if v) or "-"],
        ["operating system", host.get("os") or "-"],
        ["country", host.get("country_name") or "-"],
        ["last update", host.get("last_update") or "-"],
        ["open ports", ", ".join(str(p) for p in findings["ports"]) or "-"],
        ["vulnerabilities", ", ".join(findings["vulns"]) or "none reported"],
    ]
    rows = []
    for banner in sorted(host.get("data") or [], key=lambda b: (b.get("port") or 0,
                                                                b.get("transport") or "")):
        text = str(banner.get("data") or "")
        if len(text) > BANNER_CHARS:
            text = text[:BANNER_CHARS] + f"\n… ({len(text):,} characters in all)"
        rows.append([f"{banner.get('port')}/{banner.get('transport') or 'tcp'}",
                     _service_name(banner), ", ".join(_banner_vulns(banner)) or "",
                     Code(text) if text else ""])
    items = [Table(facts, headers=["", ""])]
    if rows:
        items.append(Table(rows, headers=["port", "service", "vulnerabilities", "banner"]))
    return Subsection(ip, *items)


class ShodanHostsCheckJob(JobBase):
    info = {
        "job_class_name": "Shodan — hosts and open services check",
        "notes": "Asks Shodan what it knows about each IP address or CIDR network of a file: "
                 "open ports, services, banners, host names and vulnerabilities, per host sorted "
                 "by address. Networks use a net: search, which spends query credits.",
        "arguments": [
            {"type": "secret", "description": "Shodan API key"},
            {"type": "file", "description": "File of IP addresses and CIDR networks, one a line"},
        ],
        "example_arguments": '["SHODAN_API_KEY", "shodan/ips.txt"]',
        "report_title": "Shodan hosts check",
    }

    @report
    def run(self, api_key=None, hosts_file=None, *args, **kwargs):
        if not isinstance(api_key, str) or not api_key.strip():
            raise JobFailed("no Shodan API key given (first argument)")
        networks, bad = parse_networks(read_lines(hosts_file, "file of IP addresses"))
        url = base_url(URL_VARIABLE, DEFAULT_URL)
        client = ShodanClient(api_key.strip(), url, request_timeout(), self.stop_event)
        hosts: dict[str, dict] = {}
        notes: list[str] = []
        try:
            for network in networks:
                self._look_up(client, network, hosts, notes)
        except (ServiceError, Stopped) as exc:
            raise failure(self, f"Shodan: {exc}",
                          self._items(networks, hosts, notes, bad, hosts_file)) from None
        self._data = {ip: _host_findings(hosts[ip]) for ip in hosts}
        return self._items(networks, hosts, notes, bad, hosts_file)

    def _look_up(self, client, network, hosts, notes):
        if network.num_addresses == 1:
            record = client.host(str(network.network_address))
            if record:
                hosts[record.get("ip_str") or str(network.network_address)] = record
            return
        banners, total = [], None
        for page in range(1, MAX_SEARCH_PAGES + 1):
            result = client.search(f"net:{network}", page) or {}
            matches = result.get("matches") or []
            total = result.get("total", 0)
            banners.extend(matches)
            if not matches or len(banners) >= total:
                break
        else:
            notes.append(f"{network}: only the first {len(banners)} of {total} services were "
                         f"read ({MAX_SEARCH_PAGES} pages)")
        for ip, host in _merge_banners(banners).items():
            hosts.setdefault(ip, host)

    def _items(self, networks, hosts, notes, bad, hosts_file):
        ordered = sorted(hosts, key=_ip_key)
        findings = {ip: _host_findings(hosts[ip]) for ip in ordered}
        summary = summary_table([
            ["addresses and networks checked", len(networks)],
            ["hosts found", len(ordered)],
            ["open ports", sum(len(f["ports"]) for f in findings.values())],
            ["hosts with vulnerabilities", sum(1 for f in findings.values() if f["vulns"])],
            ["lines skipped", len(bad)],
        ])
        items = [Section("Summary", summary, *[Text(note) for note in notes])]
        if ordered:
            items.append(Section("Hosts", *[_host_section(ip, hosts[ip], findings[ip])
                                            for ip in ordered]))
        else:
            items.append(Section("Hosts", Text("Shodan has no information on these addresses.")))
        found = [f for ip in ordered for f in port_findings(ip, hosts[ip])]
        return items + findings_section(found) + bad_lines_section(bad)
