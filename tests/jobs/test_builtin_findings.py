"""The findings the built-in jobs record (CONTRACT §8), against the local fakes of their
services: kinds, keys, and never a password or its full hash in a Pwned Passwords finding."""
from __future__ import annotations

import hashlib
import json

from bots_scheduler.findings import Finding, collect_findings
from bots_scheduler.jobs.builtin.censys_hosts import CensysHostsCheckJob, CensysHostsEnumeration
from bots_scheduler.jobs.builtin.hibp import HaveIBeenPwnedJob
from bots_scheduler.jobs.builtin.pwned_passwords import PwnedPasswordsJob
from bots_scheduler.jobs.builtin.shodan_hosts import ShodanHostsCheckJob
from tests.jobs.conftest import PWNED


def findings_of(job, result) -> list[Finding]:
    """The findings among what the job's run returned (a Report, or HTML with the items kept
    on the job)."""
    items = getattr(result, "items", None)
    if items is None:
        items = job._report_items
    return collect_findings(items)


def run(job_class, context, *args):
    job = job_class("j1", "e1", context)
    return job, findings_of(job, job.run(*args))


def test_shodan_records_each_open_port_as_ip_port_protocol(context, data_file, shodan_service):
    _, found = run(ShodanHostsCheckJob, context, "shodan-key",
                   data_file("ips.txt", "203.0.113.9\n198.51.100.7\n"))
    assert [(f.kind, f.key) for f in found] == [
        ("open-port", "198.51.100.7:22/tcp"), ("open-port", "198.51.100.7:80/tcp"),
        ("open-port", "203.0.113.9:8080/tcp")]
    ssh = found[0]
    assert (ssh.title, ssh.severity) == ("OpenSSH 8.9p1", "high")
    assert ssh.details == {"product": "OpenSSH", "version": "8.9p1",
                           "vulns": ["CVE-2023-38408"]}
    assert found[1].severity == "info"


def test_shodan_findings_are_the_same_run_after_run(context, data_file, shodan_service):
    path = data_file("ips.txt", "198.51.100.0/24\n")
    _, first = run(ShodanHostsCheckJob, context, "shodan-key", path)
    _, second = run(ShodanHostsCheckJob, context, "shodan-key", path)
    assert [f.digest for f in first] == [f.digest for f in second]
    assert {f.key for f in first} == {"198.51.100.7:22/tcp", "198.51.100.7:80/tcp",
                                      "198.51.100.30:443/tcp"}


def test_censys_hosts_records_open_ports(context, data_file, censys_service):
    _, found = run(CensysHostsCheckJob, context, "censys-id", "censys-secret",
                   data_file("ips.txt", "198.51.100.7\n198.51.100.30\n"))
    assert [(f.kind, f.key) for f in found] == [
        ("open-port", "198.51.100.7:22/tcp"), ("open-port", "198.51.100.7:443/tcp"),
        ("open-port", "198.51.100.30:25/tcp")]
    assert found[0].details == {"service": "SSH"}


def test_censys_enumeration_records_host_names(context, data_file, censys_service):
    _, found = run(CensysHostsEnumeration, context, "censys-id", "censys-secret",
                   data_file("domains.txt", "example.org\n"))
    assert {f.kind for f in found} == {"hostname"}
    keys = {f.key for f in found}
    assert {"www.example.org", "mail.example.org"} <= keys
    assert "mx.other.net" not in keys
    assert all(f.details == {"domain": "example.org"} for f in found)


def test_hibp_records_breaches_as_account_and_breach_name(context, data_file, hibp_service):
    _, found = run(HaveIBeenPwnedJob, context, "hibp-key",
                   data_file("accounts.txt", "alice@example.org\nexample.org\n"))
    keys = {f.key: f for f in found}
    assert {f.kind for f in found} == {"breach"}
    assert {"alice@example.org:Adobe", "alice@example.org:LinkedIn",
            "bob@example.org:Adobe", "example.org:ExampleShop"} <= set(keys)
    assert keys["alice@example.org:Adobe"].severity == "high"          # passwords leaked
    assert keys["example.org:ExampleShop"].severity == "medium"
    assert keys["alice@example.org:Adobe"].details["breach_date"] == "2013-10-04"


def test_pwned_passwords_keys_are_hash_prefix_and_line_never_the_password(
        context, data_file, pwned_passwords_service):
    passwords = ["correct horse battery staple", "hunter2hunter2", "letmein123"]
    job, found = run(PwnedPasswordsJob, context, data_file("pw.txt", "\n".join(passwords)))
    expected = [f"{hashlib.sha1(p.encode()).hexdigest().upper()[:5]}:{line}"
                for line, p in enumerate(passwords, 1) if p in PWNED]
    assert [f.key for f in found] == expected
    assert {f.kind for f in found} == {"pwned-password"}
    stored = json.dumps([f.as_dict() for f in found])
    for password in passwords:
        digest = hashlib.sha1(password.encode()).hexdigest()
        assert password not in stored and password[:4] not in stored
        assert digest.upper()[5:] not in stored and digest[5:] not in stored
        assert "*****" not in stored
