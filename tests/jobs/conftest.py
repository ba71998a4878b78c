"""Fixtures of the built-in job tests: a job context, data files, and the fake services."""
import threading
from types import SimpleNamespace

import pytest

from tests.jobs.fakes import (FakeCensys, FakeHIBP, FakePwnedPasswords, FakeShodan,
                              censys_host, hibp_breach, shodan_host)


@pytest.fixture
def context(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    return SimpleNamespace(data_dir=data, job_name="test job", execution_id="e1",
                           stop_event=threading.Event())


@pytest.fixture
def data_file(context):
    """Writes a file in the data folder; returns its absolute path (as the runner passes it)."""
    def write(name, text):
        path = context.data_dir / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(text if isinstance(text, bytes) else text.encode())
        return str(path)
    return write


@pytest.fixture
def quick_timeout(monkeypatch):
    monkeypatch.setenv("BOTS_SCHEDULER_HTTP_TIMEOUT", "1")


def _serve(monkeypatch, variable, fake):
    fake.start()
    monkeypatch.setenv(variable, fake.url)
    return fake


SHODAN_HOSTS = [
    shodan_host("198.51.100.7", [(22, "OpenSSH", "8.9p1", "SSH-2.0-OpenSSH_8.9p1"),
                                 (80, "nginx", "1.18.0", "HTTP/1.1 200 OK\r\nServer: nginx")],
                hostnames=["www.example.org"], vulns=["CVE-2023-38408"]),
    shodan_host("198.51.100.30", [(443, "nginx", "1.25.0", "HTTP/1.1 301 Moved <script>")]),
    shodan_host("203.0.113.9", [(8080, "Jetty", "9.4", "HTTP/1.1 404 Not Found")]),
]


@pytest.fixture
def shodan_service(monkeypatch):
    fake = _serve(monkeypatch, "BOTS_SCHEDULER_SHODAN_URL", FakeShodan(hosts=SHODAN_HOSTS))
    yield fake
    fake.stop()


CENSYS_HOSTS = [
    censys_host("198.51.100.7", [(22, "SSH", "OpenSSH", "SSH-2.0-OpenSSH_8.9"),
                                 (443, "HTTP", "nginx", "HTTP/1.1 200 OK")],
                names=["www.example.org"], tls_names=["www.example.org"]),
    censys_host("198.51.100.30", [(25, "SMTP", "Postfix", "220 mail.example.org ESMTP")],
                tls_names=["mail.example.org"]),
    censys_host("203.0.113.9", [(3389, "RDP", None, "")]),
]
CENSYS_CERTIFICATES = [
    {"fingerprint_sha256": "a" * 64, "names": ["example.org", "www.example.org"],
     "parsed": {"issuer_dn": "CN=Example CA", "subject_dn": "CN=example.org"}},
    {"fingerprint_sha256": "b" * 64, "names": ["mail.example.org", "mx.other.net"],
     "parsed": {"issuer_dn": "CN=Example CA", "subject_dn": "CN=mail.example.org"}},
    {"fingerprint_sha256": "c" * 64, "names": ["*.dev.example.org"],
     "parsed": {"issuer_dn": "CN=Example CA", "subject_dn": "CN=*.dev.example.org"}},
]


@pytest.fixture
def censys_service(monkeypatch):
    fake = _serve(monkeypatch, "BOTS_SCHEDULER_CENSYS_URL",
                  FakeCensys(hosts=CENSYS_HOSTS, certificates=CENSYS_CERTIFICATES))
    yield fake
    fake.stop()


HIBP_BREACHES = [
    hibp_breach("Adobe", "adobe.com", "2013-10-04", 152445165,
                ["Email addresses", "Password hints", "Passwords", "Usernames"]),
    hibp_breach("LinkedIn", "linkedin.com", "2012-05-05", 164611595,
                ["Email addresses", "Passwords"]),
    hibp_breach("ExampleShop", "example.org", "2021-02-03", 12000,
                ["Email addresses", "Names"], IsVerified=False, IsSensitive=True),
]


@pytest.fixture
def hibp_service(monkeypatch):
    fake = _serve(monkeypatch, "BOTS_SCHEDULER_HIBP_URL", FakeHIBP(
        breaches=HIBP_BREACHES,
        accounts={"alice@example.org": ["Adobe", "LinkedIn"]},
        domains={"example.org": {"alice": ["Adobe", "LinkedIn"], "bob": ["Adobe"]}}))
    yield fake
    fake.stop()


PWNED = {"hunter2hunter2": 9659365, "letmein123": 23431, "Tr0ub4dor&3": 120}


@pytest.fixture
def pwned_passwords_service(monkeypatch):
    fake = _serve(monkeypatch, "BOTS_SCHEDULER_PWNEDPASSWORDS_URL", FakePwnedPasswords(PWNED))
    yield fake
    fake.stop()
