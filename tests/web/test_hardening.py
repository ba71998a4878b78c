"""The scheduler's side of issue 13, on a real server process: --local refuses what another web
page could send, bodies are refused before they are read (peak memory from /proc), bad names
and deeply nested JSON are 400s, and the datastore and data folder are private."""
from __future__ import annotations

import json
import os
import re
import socket
import stat
import threading

import pytest
import requests

from tests.proxy.tools import htpasswd_tool, https

HELLO = "bots_scheduler.jobs.builtin.sample.HelloJob"
JOB = {"job_class_string": HELLO, "name": "hello", "pub_args": ["w"]}
MIB = 1024 * 1024


def peak_memory_mib(pid: int) -> float:
    with open(f"/proc/{pid}/status") as handle:
        for line in handle:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    raise AssertionError("no VmHWM")


def send_raw(port: int, head: bytes, body_size: int, chunked: bool = False) -> bytes:
    """Sends a request head and up to ``body_size`` bytes of body while the server reads; the
    server may answer and close early. Returns what it answered."""
    answer = b""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as conn:
        conn.sendall(head)
        block = b"x" * MIB
        try:
            for _ in range(body_size // MIB):
                conn.sendall(b"%x\r\n%s\r\n" % (len(block), block) if chunked else block)
            if chunked:
                conn.sendall(b"0\r\n\r\n")
        except OSError:
            pass                          # cut off by the server: what we want
        try:
            while chunk := conn.recv(65536):
                answer += chunk
        except OSError:
            pass
    return answer


@pytest.fixture
def local(server):
    return server()


def jobs_of(srv) -> list:
    return srv.get("/api/v1/jobs").json()["jobs"]


# -- --local: protected from other web pages (CONTRACT §6, last bullet) ---------------------

@pytest.mark.parametrize("host", ["evil.example", "evil.example:8889", "127.0.0.1.nip.io",
                                  "192.168.1.10", "localhost.evil.example"])
def test_a_foreign_host_name_is_refused_even_for_reading(local, host):
    """DNS rebinding: a page under its own name that resolves to 127.0.0.1 reads nothing."""
    r = local.get("/api/v1/export", headers={"Host": host})
    assert r.status_code == 403
    assert "Host" in r.json()["error"]
    assert local.get("/", headers={"Host": host}).status_code == 403


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost:1234", "LOCALHOST:8080", "[::1]:9",
                                  "127.0.0.1:22222"])
def test_the_local_names_are_accepted_with_any_port(local, host):
    """An SSH tunnel (-L 9999:127.0.0.1:PORT+1) arrives with another port."""
    assert local.get("/api/v1/jobs", headers={"Host": host}).status_code == 200


def test_a_cross_site_text_plain_job_post_is_refused_and_nothing_runs(local):
    """What the review did: fetch(…, {mode: 'no-cors', body: JSON}) sends text/plain."""
    body = json.dumps({"job_class_string": "bots_scheduler.jobs.builtin.shell.ShellCommand",
                       "name": "pwned", "pub_args": ["touch", "pwned"]})
    for headers in ({"Content-Type": "text/plain;charset=UTF-8", "Origin": "http://evil.example"},
                    {"Content-Type": "text/plain", "Sec-Fetch-Site": "cross-site"},
                    {"Content-Type": "text/plain"},
                    {"Content-Type": "application/x-www-form-urlencoded"},
                    {"Content-Type": "application/json", "Origin": "http://evil.example"},
                    {"Content-Type": "application/json", "Origin": "null"},
                    {"Content-Type": "application/json", "Sec-Fetch-Site": "cross-site"}):
        r = local.post("/api/v1/jobs", data=body, headers=headers)
        assert r.status_code == 403, (headers, r.text)
        assert "error" in r.json()
    assert jobs_of(local) == []
    assert local.get("/api/v1/logs").json()["logs"] == []


@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE", "OPTIONS"])
def test_other_state_changing_methods_from_another_origin_are_refused(local, method):
    job_id = local.add_job(HELLO, "kept")
    r = local.api(method, f"/api/v1/jobs/{job_id}", json=JOB,
                  headers={"Origin": "http://evil.example"})
    assert r.status_code == 403
    job = local.get(f"/api/v1/jobs/{job_id}").json()
    assert job["name"] == "kept" and not job["paused"]


def test_the_pages_own_origin_and_scripts_without_origin_may_change_things(local):
    own = f"http://127.0.0.1:{local.port + 1}"
    r = local.post("/api/v1/jobs", json=JOB,
                   headers={"Origin": own, "Sec-Fetch-Site": "same-origin"})
    assert r.status_code == 201, r.text
    r = local.post("/api/v1/jobs", data=json.dumps(JOB),
                   headers={"Content-Type": "application/json; charset=utf-8"})
    assert r.status_code == 201, r.text       # curl and scripts send no Origin
    via_tunnel = local.post("/api/v1/jobs", json=JOB, headers={
        "Host": "localhost:9999", "Origin": "http://localhost:9999"})
    assert via_tunnel.status_code == 201, via_tunnel.text
    assert len(jobs_of(local)) == 3


def test_a_cross_site_upload_is_refused_and_a_same_origin_one_accepted(local):
    files = {"file": ("ips.txt", b"10.0.0.1\n", "text/plain")}
    r = local.post("/api/v1/files", files=files, headers={"Origin": "http://evil.example"})
    assert r.status_code == 403
    r = local.post("/api/v1/files", files=files,
                   headers={"Origin": f"http://127.0.0.1:{local.port + 1}"})
    assert r.status_code == 201, r.text


@pytest.mark.parametrize("path", ["/", "/api/v1/jobs", "/static/app.js", "/no/such/thing"])
def test_local_responses_carry_the_security_headers(local, path):
    r = local.get(path)
    assert r.status_code in (200, 404)
    assert r.headers["Content-Security-Policy"].startswith("default-src 'self'")
    assert "frame-ancestors 'none'" in r.headers["Content-Security-Policy"]
    assert r.headers["X-Frame-Options"] == "DENY"
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert "Strict-Transport-Security" not in r.headers      # plain http: no HSTS
    refused = local.get(path, headers={"Host": "evil.example"})
    assert refused.headers["X-Frame-Options"] == "DENY"


# -- bad input ------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["two\r\nlines", "line\nfeed", "carriage\rreturn",
                                  "sep\u2028arator", "nul\x00", "bell\x07"])
def test_a_name_must_be_one_line(local, name):
    r = local.post("/api/v1/jobs", json={**JOB, "name": name})
    assert r.status_code == 400
    assert "name" in r.json()["error"]
    job_id = local.add_job(HELLO, "one line")
    r = local.api("PUT", f"/api/v1/jobs/{job_id}", json={**JOB, "name": name})
    assert r.status_code == 400
    assert local.get(f"/api/v1/jobs/{job_id}").json()["name"] == "one line"


@pytest.mark.parametrize("depth", [65, 200, 100_000])
def test_deeply_nested_json_is_a_400_not_a_500(local, depth):
    body = '{"job_class_string": "%s", "name": "deep", "pub_args": %s1%s}' % (
        HELLO, "[" * depth, "]" * depth)
    r = local.post("/api/v1/jobs", data=body, headers={"Content-Type": "application/json"})
    assert r.status_code == 400, r.text[:200]
    assert "nested" in r.json()["error"]
    assert jobs_of(local) == []


def test_moderately_nested_arguments_are_fine(local):
    nested = [[["a", {"b": [1, 2]}]]]
    r = local.post("/api/v1/jobs", json={**JOB, "pub_args": nested})
    assert r.status_code == 201, r.text


# -- bodies refused before they are read ----------------------------------------------------

def test_an_oversized_json_body_is_refused_before_it_is_read(local):
    pid = local.proc.pid
    before = peak_memory_mib(pid)
    head = (b"POST /api/v1/jobs HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n" % (60 * MIB))
    answers = []
    threads = [threading.Thread(target=lambda: answers.append(
        send_raw(local.port + 1, head, 60 * MIB))) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert len(answers) == 6
    assert all(answer.startswith(b"HTTP/1.1 413") for answer in answers), answers[0][:200]
    grown = peak_memory_mib(pid) - before
    assert grown < 30, f"the scheduler grew by {grown:.0f} MiB"     # six bodies: 360 MiB
    assert local.get("/healthz").status_code == 200


def test_an_oversized_chunked_body_is_cut_off_while_it_streams(local):
    pid = local.proc.pid
    before = peak_memory_mib(pid)
    head = (b"POST /api/v1/jobs HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n")
    for _ in range(3):
        answer = send_raw(local.port + 1, head, 40 * MIB, chunked=True)
        assert not answer.startswith(b"HTTP/1.1 2"), answer[:200]
    grown = peak_memory_mib(pid) - before
    assert grown < 30, f"the scheduler grew by {grown:.0f} MiB"
    assert jobs_of(local) == []


@pytest.fixture
def behind_proxy(server, workdir):
    users = workdir / "users.htpasswd"
    htpasswd_tool(users, "alice", "alice pw")
    (workdir / ".htgroups").write_text("admin: alice\n")
    return server("--htpasswd", str(users), local=False)


def test_without_the_proxy_secret_bodies_are_refused_before_they_are_read(behind_proxy):
    """The review's six unauthenticated 60 MiB POSTs straight to PORT+1."""
    srv = behind_proxy
    pid = srv.proc.pid
    before = peak_memory_mib(pid)
    head = (b"POST /api/v1/jobs HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n" % (60 * MIB))
    answers = []
    threads = [threading.Thread(target=lambda: answers.append(
        send_raw(srv.port + 1, head, 60 * MIB))) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert all(answer.startswith(b"HTTP/1.1 403") for answer in answers), answers[0][:200]
    grown = peak_memory_mib(pid) - before
    assert grown < 30, f"the scheduler grew by {grown:.0f} MiB"


def test_through_the_proxy_an_oversized_body_is_refused_by_the_scheduler_unread(behind_proxy):
    srv = behind_proxy
    pid = srv.proc.pid
    before = peak_memory_mib(pid)

    def body():
        for _ in range(60):
            yield b"x" * MIB

    try:
        r = https("POST", srv.proxy_url + "/api/v1/jobs", auth=("alice", "alice pw"),
                  data=body(), headers={"Content-Type": "application/json"}, timeout=120)
        assert r.status_code in (413, 502), r.text[:200]
    except requests.ConnectionError:
        pass                                     # cut off while sending
    grown = peak_memory_mib(pid) - before
    assert grown < 30, f"the scheduler grew by {grown:.0f} MiB"


# -- file modes -----------------------------------------------------------------------------

def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_datastore_data_folder_and_secrets_are_private_whatever_the_umask(server, workdir):
    old = os.umask(0)                 # the worst case: everything would be world-writable
    try:
        srv = server(local=False)
    finally:
        os.umask(old)
    r = https("POST", srv.proxy_url + "/api/v1/jobs", auth=("administrator", _password(srv)),
              json={**JOB, "name": "writes the WAL"})
    assert r.status_code == 201, r.text
    data = workdir / "data"
    assert mode(data) == 0o700
    for name in ("datastore.db", "datastore.db-wal", "datastore.db-shm", "datastore.db.lock"):
        assert (data / name).exists(), name
        assert mode(data / name) == 0o600, name
    for secret in (".htpasswd", ".htgroups", ".proxy-certificate.pem"):
        assert mode(workdir / secret) == 0o600, secret
    key = workdir / "conf" / "secret.key"         # made at the first use of a secret
    assert not key.exists() or mode(key) == 0o600


def test_an_existing_readable_datastore_is_made_private(server, workdir):
    data = workdir / "data"
    data.mkdir(mode=0o755)
    os.chmod(data, 0o755)
    (data / "datastore.db").touch()
    os.chmod(data / "datastore.db", 0o644)
    srv = server()
    srv.add_job(HELLO, "x")
    assert mode(data) == 0o700
    assert mode(data / "datastore.db") == 0o600
    assert mode(data / "datastore.db-wal") == 0o600
    assert "could be read by other users" in srv.stderr()


def _password(srv) -> str:
    return re.search(r"password '([^']+)'", srv.stdout()).group(1)
