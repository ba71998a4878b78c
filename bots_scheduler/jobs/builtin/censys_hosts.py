"""Censys Search 2.0 jobs: hosts and open ports of IPs/networks, and host names from certificates.

They speak the documented v2 REST API (``/v2/hosts/{ip}``, ``/v2/hosts/search``,
``/v2/certificates/search``) with requests rather than the ``censys`` package: that client
retries a 429/503 answer carrying Retry-After for as long as the service keeps answering so
(an unbounded loop a job's stop request cannot interrupt) and reads ``~/.config/censys``.
Our client bounds the retries and the wait, and stops when the job is stopped.
"""
from __future__ import annotations

import ipaddress

from bots_scheduler.jobs.base import JobBase, JobFailed
from bots_scheduler.jobs.builtin._inputs import (bad_lines_section, parse_domains,
                                                 parse_networks, read_lines)
from bots_scheduler.jobs.builtin._service import (ServiceClient, ServiceError, Stopped,
                                                  base_url, failure, summary_table)
from bots_scheduler.jobs.finding import Finding
from bots_scheduler.jobs.builtin._findings import findings_section, port_key
from bots_scheduler.jobs.report import Section, Subsection, Table, Text, report

URL_VARIABLE = "BOTS_SCHEDULER_CENSYS_URL"
DEFAULT_URL = "https://search.censys.io/api"
PER_PAGE = 100
MAX_PAGES = 5


def _credentials(api_id, api_secret):
    for value, what in ((api_id, "API ID (first argument)"),
                        (api_secret, "API secret (second argument)")):
        if not isinstance(value, str) or not value.strip():
            raise JobFailed(f"no Censys {what} given")
    return api_id.strip(), api_secret.strip()


def censys_client(api_id, api_secret, stop_event) -> ServiceClient:
    return ServiceClient("Censys", base_url(URL_VARIABLE, DEFAULT_URL),
                         auth=_credentials(api_id, api_secret), stop_event=stop_event)


def search(client, index, query, notes):
    """All hits of a v2 search (``index``: hosts or certificates), at most MAX_PAGES pages."""
    hits, cursor = [], None
    for _ in range(MAX_PAGES):
        params = {"q": query, "per_page": PER_PAGE}
        if cursor:
            params["cursor"] = cursor
        result = _result(client.get_json(f"/v2/{index}/search", params))
        hits.extend(result.get("hits") or [])
        cursor = (result.get("links") or {}).get("next")
        if not cursor:
            return hits
    notes.append(f"{query}: only the first {len(hits)} of {result.get('total', '?')} results "
                 f"were read ({MAX_PAGES} pages)")
    return hits


def _result(body) -> dict:
    result = body.get("result") if isinstance(body, dict) else None
    return result if isinstance(result, dict) else {}


def _ip_key(ip: str):
    address = ipaddress.ip_address(ip)
    return address.version, int(address)


def _service_label(service) -> str:
    software = service.get("software") or []
    product = " ".join(str(part) for part in (software[0].get("product"),
                                              software[0].get("version")) if part) \
        if software and isinstance(software[0], dict) else ""
    name = service.get("extended_service_name") or service.get("service_name") or ""
    return " ".join(part for part in (name, product) if part)


def _port_label(service) -> str:
    return f"{service.get('port')}/{(service.get('transport_protocol') or 'tcp').lower()}"


def host_findings(host) -> dict:
    services = sorted(host.get("services") or [], key=lambda s: (s.get("port") or 0,
                                                                  _port_label(s)))
    dns = host.get("dns") or {}
    names = set(dns.get("names") or []) | set((dns.get("reverse_dns") or {}).get("names") or [])
    return {
        "ports": sorted({int(s["port"]) for s in services if s.get("port") is not None}),
        "services": sorted({f"{_port_label(s)} {_service_label(s)}".strip() for s in services}),
        "hostnames": sorted(names),
    }


def port_findings(ip: str, host) -> list[Finding]:
    """One ``open-port`` finding per service of the host (its name and software as details)."""
    findings = {}
    for service in host.get("services") or []:
        if service.get("port") is None:
            continue
        key = port_key(ip, service["port"], service.get("transport_protocol"))
        details = {}
        if service.get("service_name"):
            details["service"] = str(service["service_name"])
        findings.setdefault(key, Finding("open-port", key, _service_label(service) or None,
                                         "info", **details))
    return [findings[key] for key in sorted(findings)]


def _host_section(ip, host, findings):
    system = host.get("autonomous_system") or {}
    location = host.get("location") or {}
    facts = [
        ["host names", ", ".join(findings["hostnames"]) or "-"],
        ["autonomous system", " ".join(str(v) for v in (system.get("asn"), system.get("name"))
                                       if v) or "-"],
        ["country", location.get("country") or "-"],
        ["open ports", ", ".join(str(p) for p in findings["ports"]) or "-"],
        ["last updated", host.get("last_updated_at") or "-"],
    ]
    rows = [[_port_label(s), _service_label(s), str(s.get("banner") or "")[:1000]]
            for s in sorted(host.get("services") or [],
                            key=lambda s: (s.get("port") or 0, _port_label(s)))]
    items = [Table(facts, headers=["", ""])]
    if rows:
        items.append(Table(rows, headers=["port", "service", "banner"]))
    return Subsection(ip, *items)


class CensysHostsCheckJob(JobBase):
    info = {
        "job_class_name": "Censys — hosts and open ports check",
        "notes": "Asks Censys Search (v2) what it sees on each IP address or CIDR network of a "
                 "file: open ports, services, software, host names; per host, sorted by address.",
        "arguments": [
            {"type": "secret", "description": "Censys API ID"},
            {"type": "secret", "description": "Censys API secret"},
            {"type": "file", "description": "File of IP addresses and CIDR networks, one a line"},
        ],
        "example_arguments": '["API_ID", "API_SECRET", "censys/ips.txt"]',
        "report_title": "Censys hosts check",
    }

    @report
    def run(self, api_id=None, api_secret=None, hosts_file=None, *args, **kwargs):
        client = censys_client(api_id, api_secret, self.stop_event)
        networks, bad = parse_networks(read_lines(hosts_file, "file of IP addresses"))
        hosts, notes = {}, []
        try:
            for network in networks:
                self._look_up(client, network, hosts, notes)
        except (ServiceError, Stopped) as exc:
            raise failure(self, f"Censys: {exc}", self._items(networks, hosts, notes, bad)) \
                from None
        finally:
            client.close()
        self._data = {ip: host_findings(host) for ip, host in hosts.items()}
        return self._items(networks, hosts, notes, bad)

    def _look_up(self, client, network, hosts, notes):
        if network.num_addresses == 1:
            ip = str(network.network_address)
            response = client.get(f"/v2/hosts/{ip}", expect=(200, 404))
            if response.status_code == 200:
                host = _result(client.decode(response))
                hosts[host.get("ip") or ip] = host
            return
        for hit in search(client, "hosts", f'ip: "{network}"', notes):
            if hit.get("ip"):
                hosts.setdefault(hit["ip"], hit)

    def _items(self, networks, hosts, notes, bad):
        ordered = sorted(hosts, key=_ip_key)
        findings = {ip: host_findings(hosts[ip]) for ip in ordered}
        items = [Section("Summary", summary_table([
            ["addresses and networks checked", len(networks)],
            ["hosts found", len(ordered)],
            ["open ports", sum(len(f["ports"]) for f in findings.values())],
            ["lines skipped", len(bad)],
        ]), *[Text(note) for note in notes])]
        if ordered:
            items.append(Section("Hosts", *[_host_section(ip, hosts[ip], findings[ip])
                                            for ip in ordered]))
        else:
            items.append(Section("Hosts", Text("Censys sees no services on these addresses.")))
        found = [f for ip in ordered for f in port_findings(ip, hosts[ip])]
        return items + findings_section(found) + bad_lines_section(bad)


def in_domain(name: str, domain: str) -> bool:
    name = name.lower().rstrip(".")
    bare = name[2:] if name.startswith("*.") else name
    return bare == domain or bare.endswith("." + domain)


class CensysHostsEnumeration(JobBase):
    info = {
        "job_class_name": "Censys — hosts from certificates",
        "notes": "For each domain of a file, lists the host names found in the certificates "
                 "Censys has seen (certificate transparency and scans), and the hosts that "
                 "present a certificate for the domain, with their open ports.",
        "arguments": [
            {"type": "secret", "description": "Censys API ID"},
            {"type": "secret", "description": "Censys API secret"},
            {"type": "file", "description": "File of domain names, one a line"},
        ],
        "example_arguments": '["API_ID", "API_SECRET", "censys/domains.txt"]',
        "report_title": "Censys hosts from certificates",
    }

    @report
    def run(self, api_id=None, api_secret=None, domains_file=None, *args, **kwargs):
        client = censys_client(api_id, api_secret, self.stop_event)
        domains, bad = parse_domains(read_lines(domains_file, "file of domain names"))
        results, notes = {}, []
        try:
            for domain in domains:
                results[domain] = self._enumerate(client, domain, notes)
        except (ServiceError, Stopped) as exc:
            raise failure(self, f"Censys: {exc}", self._items(domains, results, notes, bad)) \
                from None
        finally:
            client.close()
        self._data = {domain: {"names": found["names"], "hosts": sorted(found["hosts"],
                                                                        key=_ip_key)}
                      for domain, found in results.items() if found["names"] or found["hosts"]}
        return self._items(domains, results, notes, bad)

    def _enumerate(self, client, domain, notes):
        certificates = search(client, "certificates", f"names: {domain}", notes)
        names = sorted({name.lower().rstrip(".") for cert in certificates
                        for name in cert.get("names") or [] if in_domain(name, domain)})
        hosts = {hit["ip"]: hit for hit in search(
            client, "hosts", f"services.tls.certificates.leaf_data.names: {domain}", notes)
            if hit.get("ip")}
        return {"names": names, "certificates": certificates, "hosts": hosts}

    def _items(self, domains, results, notes, bad):
        items = [Section("Summary", summary_table([
            ["domains checked", len(domains)],
            ["host names found", sum(len(r["names"]) for r in results.values())],
            ["hosts presenting them", sum(len(r["hosts"]) for r in results.values())],
            ["lines skipped", len(bad)],
        ]), *[Text(note) for note in notes])]
        for domain in domains:
            if domain not in results:
                continue
            found = results[domain]
            parts = [Text(f"{len(found['certificates'])} certificates, "
                          f"{len(found['names'])} host names, {len(found['hosts'])} hosts.")]
            if found["names"]:
                parts.append(Table([[name] for name in found["names"]], headers=["host name"]))
            if found["hosts"]:
                parts.append(Table([[ip, ", ".join(host_findings(found["hosts"][ip])["services"])]
                                    for ip in sorted(found["hosts"], key=_ip_key)],
                                   headers=["host", "services"]))
            items.append(Section(domain, *parts))
        found = [Finding("hostname", name, f"in certificates for {domain}", "info",
                         domain=domain)
                 for domain in domains if domain in results for name in results[domain]["names"]]
        return items + findings_section(found) + bad_lines_section(bad)
