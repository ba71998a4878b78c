"""``bots-scheduler run`` behind its proxy, as a real process over real TLS (CONTRACT §5)."""
from __future__ import annotations

import hashlib
import os
import re
import signal
import socket
import stat
import subprocess
import sys

import pytest
import requests

from tests.proxy.tools import (der, htpasswd_tool, https, make_certificate, port_is_free,
                               served_certificate, wait_until)
from tests.support.server import ServerProcess, free_port_pair

pytestmark = pytest.mark.integration     # starts bots-scheduler or mitmproxy processes

USERS = {"bcrypt": ("alice", "alice pw"), "apr1": ("bob", "bob pw"), "sha1": ("carol", "carol pw")}
ALICE = USERS["bcrypt"]
HELLO = "bots_scheduler.jobs.builtin.sample.HelloJob"
SECURITY_HEADERS = ("Strict-Transport-Security", "X-Content-Type-Options", "X-Frame-Options",
                    "Referrer-Policy", "Content-Security-Policy")
GENERATED = re.compile(r"user 'administrator' and password '([^']+)'")


def write_users(folder) -> str:
    path = folder / "users.htpasswd"
    for fmt, (user, password) in USERS.items():
        htpasswd_tool(path, user, password, fmt)
    # the roles (docs/security.md): these users create jobs, so they are admins
    (folder / ".htgroups").write_text("admin: " + " ".join(u for u, _ in USERS.values()) + "\n")
    return str(path)


@pytest.fixture(scope="module")
def proxied(tmp_path_factory):
    """One server behind its proxy for the tests that fail at most a few logins."""
    folder = tmp_path_factory.mktemp("proxied")
    server = ServerProcess(folder, ["--htpasswd", write_users(folder)], local=False)
    server.start()
    yield server
    server.stop()


def proxy_pid(server: ServerProcess) -> int:
    """The mitmdump child of the launcher."""
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                ppid = int(handle.read().rsplit(") ", 1)[1].split()[1])
            with open(f"/proc/{entry}/cmdline", "rb") as handle:
                cmdline = handle.read()
        except (FileNotFoundError, ProcessLookupError, IndexError):
            continue
        if ppid == server.proc.pid and b"mitmdump" in cmdline:
            return int(entry)
    raise AssertionError("no proxy process found")


def gone(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(") ", 1)[1].startswith("Z")
    except FileNotFoundError:
        return True


# -- authentication ----------------------------------------------------------------------------

def test_the_api_without_credentials_gets_401_with_a_challenge(proxied):
    r = https("GET", proxied.proxy_url + "/api/v1/jobs")
    assert r.status_code == 401
    assert r.headers["WWW-Authenticate"].startswith("Basic ")


@pytest.mark.parametrize("fmt", ["bcrypt", "apr1", "sha1"])
def test_users_of_each_htpasswd_format_reach_the_api(proxied, fmt):
    r = https("GET", proxied.proxy_url + "/api/v1/jobs", auth=USERS[fmt])
    assert r.status_code == 200
    assert "jobs" in r.json()


def test_a_wrong_password_gets_401(proxied):
    r = https("GET", proxied.proxy_url + "/api/v1/jobs", auth=(ALICE[0], "wrong"))
    assert r.status_code == 401


def test_plain_http_is_redirected_to_https_and_never_asks_for_credentials(proxied):
    r = https("GET", f"http://127.0.0.1:{proxied.port}/api/v1/jobs")
    assert r.status_code == 308
    assert r.headers["Location"] == f"https://127.0.0.1:{proxied.port}/api/v1/jobs"
    assert "WWW-Authenticate" not in r.headers


# -- headers -----------------------------------------------------------------------------------

@pytest.mark.parametrize("path,auth,status", [
    ("/", ALICE, 200),
    ("/api/v1/jobs", ALICE, 200),
    ("/api/v1/jobs/no-such-job", ALICE, 404),
    ("/api/v1/jobs", None, 401),
], ids=["ui", "api", "api-error", "proxy-refusal"])
def test_every_response_carries_the_security_headers(proxied, path, auth, status):
    r = https("GET", proxied.proxy_url + path, auth=auth)
    assert r.status_code == status
    for name in SECURITY_HEADERS:
        assert name in r.headers, name
    assert r.headers["X-Frame-Options"] == "DENY"
    assert r.headers["X-Content-Type-Options"] == "nosniff"


# -- identity and trust ------------------------------------------------------------------------

def test_a_forged_identity_header_does_not_change_the_audit_user(proxied):
    r = https("POST", proxied.proxy_url + "/api/v1/jobs", auth=ALICE,
              json={"job_class_string": HELLO, "name": "forged", "pub_args": ["x", 0]},
              headers={"X-Bots-User": "mallory", "X-Bots-Proxy-Secret": "guess"})
    assert r.status_code == 201, r.text
    job_id = r.json()["job_id"]
    logs = https("GET", proxied.proxy_url + "/api/v1/logs", auth=ALICE).json()["logs"]
    assert [(e["event"], e["user"]) for e in logs if e["job_id"] == job_id] == \
        [("added", "alice")]


@pytest.mark.parametrize("headers", [{}, {"X-Bots-User": "alice"}])
def test_a_request_straight_to_the_scheduler_port_is_refused(proxied, headers):
    r = requests.get(proxied.url + "/api/v1/jobs", headers=headers, timeout=30)
    assert r.status_code == 403
    assert "error" in r.json()


def test_a_cross_site_form_post_is_refused_and_changes_nothing(proxied):
    r = https("POST", proxied.proxy_url + "/api/v1/jobs", auth=ALICE,
              data={"job_class_string": HELLO, "name": "csrf"},
              headers={"Origin": "https://evil.example"})
    assert r.status_code == 403
    jobs = https("GET", proxied.proxy_url + "/api/v1/jobs", auth=ALICE).json()["jobs"]
    assert "csrf" not in [job["name"] for job in jobs]


def test_the_uis_own_origin_may_change_things(proxied):
    r = https("POST", proxied.proxy_url + "/api/v1/jobs", auth=ALICE,
              json={"job_class_string": HELLO, "name": "from-ui", "pub_args": ["x", 0]},
              headers={"Origin": proxied.proxy_url})
    assert r.status_code == 201


def test_a_user_added_with_passwd_logs_in_without_a_restart(proxied):
    users = str(proxied.cwd / "users.htpasswd")
    result = subprocess.run([sys.executable, "-m", "bots_scheduler", "passwd", "--htpasswd",
                             users, "--password-stdin", "dave"], input="dave: pw\n",
                            capture_output=True, text=True, cwd=proxied.cwd)
    assert result.returncode == 0, result.stderr
    r = https("GET", proxied.proxy_url + "/api/v1/jobs", auth=("dave", "dave: pw"))
    assert r.status_code == 200


def test_the_audit_log_carries_a_non_ascii_user_name_intact(proxied):
    users = str(proxied.cwd / "users.htpasswd")
    subprocess.run([sys.executable, "-m", "bots_scheduler", "passwd", "--htpasswd", users,
                    "--password-stdin", "--role", "admin", "jürgen"], input="grüße\n", check=True,
                   capture_output=True, text=True, cwd=proxied.cwd)
    auth = ("jürgen".encode(), "grüße".encode())
    r = https("POST", proxied.proxy_url + "/api/v1/jobs", auth=auth,
              json={"job_class_string": HELLO, "name": "umlaut", "pub_args": ["x", 0]})
    assert r.status_code == 201, r.text
    logs = https("GET", proxied.proxy_url + "/api/v1/logs", auth=ALICE).json()["logs"]
    assert [e["user"] for e in logs if e["job_id"] == r.json()["job_id"]] == ["jürgen"]


# -- the generated .htpasswd -------------------------------------------------------------------

def test_without_htpasswd_one_is_made_private_and_its_password_printed_once(server, workdir):
    first = server(local=False)
    password = GENERATED.search(first.stdout()).group(1)
    path = workdir / ".htpasswd"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    content = path.read_bytes()
    r = https("GET", first.proxy_url + "/api/v1/jobs", auth=("administrator", password))
    assert r.status_code == 200
    assert first.stop() == 0

    second = server(local=False)
    assert "password" not in second.stdout()
    assert password not in second.stdout() + second.stderr()
    assert path.read_bytes() == content
    r = https("GET", second.proxy_url + "/api/v1/jobs", auth=("administrator", password))
    assert r.status_code == 200


# -- processes ---------------------------------------------------------------------------------

def test_killing_the_launcher_brings_the_proxy_down_and_frees_both_ports(server, workdir):
    running = server("--htpasswd", write_users(workdir), local=False)
    pid = proxy_pid(running)
    running.proc.send_signal(signal.SIGKILL)
    running.proc.wait(10)
    assert wait_until(lambda: gone(pid))
    assert wait_until(lambda: port_is_free(running.port) and port_is_free(running.port + 1))


def test_killing_the_proxy_stops_the_scheduler_and_frees_both_ports(server, workdir):
    running = server("--htpasswd", write_users(workdir), local=False)
    os.kill(proxy_pid(running), signal.SIGKILL)
    assert running.wait(30) == 1
    assert "proxy stopped unexpectedly" in running.stderr()
    assert port_is_free(running.port) and port_is_free(running.port + 1)


def test_stopping_the_launcher_stops_the_proxy(server, workdir):
    running = server("--htpasswd", write_users(workdir), local=False)
    pid = proxy_pid(running)
    assert running.stop() == 0
    assert gone(pid)
    assert port_is_free(running.port) and port_is_free(running.port + 1)


def test_a_taken_proxy_port_ends_the_start_with_one_line(server, workdir):
    port = free_port_pair()
    with socket.socket() as taken:
        taken.bind(("0.0.0.0", port))
        taken.listen()
        result = subprocess.run([sys.executable, "-m", "bots_scheduler", "run", "-p", str(port),
                                 "--htpasswd", write_users(workdir)], cwd=workdir,
                                capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert f"port {port}" in lines[0] and "already in use" in lines[0]
    assert port_is_free(port + 1)


# -- certificates ------------------------------------------------------------------------------

def test_the_given_certificate_is_served(server, workdir):
    pem, _, cert = make_certificate(workdir)
    running = server("--htpasswd", write_users(workdir), "--certificate", str(pem),
                     local=False)
    expected = der(cert)
    assert served_certificate(running.port) == expected
    r = https("GET", running.proxy_url + "/api/v1/jobs", auth=ALICE, verify=str(cert))
    assert r.status_code == 200
    assert f"SHA-256 fingerprint {fingerprint_of(expected)}" in running.stdout()
    assert not (workdir / ".proxy-certificate.pem").exists()


def fingerprint_of(der_bytes: bytes) -> str:
    """As openssl prints it: AA:BB:..."""
    return hashlib.sha256(der_bytes).digest().hex(":").upper()


def test_without_certificate_ours_is_made_once_and_its_fingerprint_printed(server, workdir):
    """A self-signed server certificate (no CA), 0600 beside .htpasswd, that a client can pin by
    the fingerprint the start printed; openssl agrees on the fingerprint."""
    users = write_users(workdir)
    first = server("--htpasswd", users, local=False)
    own = workdir / ".proxy-certificate.pem"
    assert stat.S_IMODE(own.stat().st_mode) == 0o600
    served = served_certificate(first.port)
    printed = re.search(r"SHA-256 fingerprint ([0-9A-F:]+)", first.stdout()).group(1)
    assert printed == fingerprint_of(served)
    openssl = subprocess.run(["openssl", "x509", "-noout", "-fingerprint", "-sha256", "-in",
                              str(own)], capture_output=True, text=True, check=True).stdout
    assert openssl.strip().endswith(printed)
    r = https("GET", first.proxy_url + "/api/v1/jobs", auth=ALICE, verify=str(own))
    assert r.status_code == 200          # verifies as 127.0.0.1 against the pinned certificate
    assert first.stop() == 0
    second = server("--htpasswd", users, local=False)
    assert served_certificate(second.port) == served
    assert printed in second.stdout()


def test_an_invalid_certificate_ends_the_command_with_one_line_and_status_2(workdir):
    pem, key, _ = make_certificate(workdir)
    result = subprocess.run([sys.executable, "-m", "bots_scheduler", "run", "-p",
                             str(free_port_pair()), "--certificate", str(key)], cwd=workdir,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1
    assert "--certificate" in result.stderr and "no PEM certificate" in result.stderr
