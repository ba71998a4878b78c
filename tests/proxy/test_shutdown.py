"""No window at shutdown (issue 13): the proxy stops forwarding before the scheduler's port is
released, so a local user who binds PORT+1 as soon as it is free gets no forwarded request (no
identity headers, no proxy secret) and no answer of its own to a logged-in browser."""
from __future__ import annotations

import socket
import threading
import time

import pytest

from tests.proxy.tools import htpasswd_tool, https
from tests.support.server import ServerProcess

pytestmark = pytest.mark.integration     # starts bots-scheduler and mitmproxy processes

SHELL = "bots_scheduler.jobs.builtin.shell.ShellCommand"
SQUATTER_ANSWER = (b"HTTP/1.1 200 OK\r\nContent-Security-Policy: default-src * 'unsafe-inline'\r\n"
                   b"Content-Length: 8\r\nConnection: close\r\n\r\nsquatted")


class Squatter(threading.Thread):
    """Binds PORT+1 the moment it is free and records what reaches it."""

    def __init__(self, port: int, proxy_port: int):
        super().__init__(daemon=True)
        self.port = port
        self.proxy_port = proxy_port
        self.bound = threading.Event()
        self.stop_after = None
        self.received: list[bytes] = []
        self.proxy_answered_when_bound = None

    def run(self):
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                sock.bind(("127.0.0.1", self.port))
                break
            except OSError:
                time.sleep(0.002)
        else:
            return
        sock.listen(16)
        self.proxy_answered_when_bound = _accepts(self.proxy_port)
        self.bound.set()
        sock.settimeout(0.2)
        until = time.monotonic() + 4
        while time.monotonic() < until:
            try:
                conn, _ = sock.accept()
            except TimeoutError:
                continue
            with conn:
                conn.settimeout(2)
                try:
                    self.received.append(conn.recv(65536))
                    conn.sendall(SQUATTER_ANSWER)
                except OSError:
                    pass
        sock.close()


def _accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def test_a_squatter_on_port_plus_one_during_shutdown_gets_nothing(tmp_path):
    users = tmp_path / "users.htpasswd"
    htpasswd_tool(users, "alice", "alice pw")
    (tmp_path / ".htgroups").write_text("admin: alice\n")      # she creates a job
    server = ServerProcess(tmp_path, ["--htpasswd", str(users)], local=False)
    server.start()
    auth = ("alice", "alice pw")
    answers: list[str] = []
    stop_client = threading.Event()
    try:
        # a running job makes the scheduler's shutdown take its grace period
        created = https("POST", server.proxy_url + "/api/v1/jobs", auth=auth, json={
            "job_class_string": SHELL, "name": "slow", "pub_args": ["sleep", "30"]})
        assert created.status_code == 201, created.text
        run = https("POST", server.proxy_url + f"/api/v1/executions/{created.json()['job_id']}",
                    auth=auth, headers={"X-Requested-With": "test"})
        assert run.status_code == 200, run.text

        def browser():
            while not stop_client.is_set():
                try:
                    r = https("GET", server.proxy_url + "/api/v1/jobs", auth=auth, timeout=5)
                    answers.append(r.text)
                except OSError:
                    pass
                time.sleep(0.01)

        client = threading.Thread(target=browser, daemon=True)
        client.start()
        squatter = Squatter(server.port + 1, server.port)
        squatter.start()
        time.sleep(0.3)
        server.signal(15)
        assert squatter.bound.wait(40), "PORT+1 was never released"
        squatter.join(10)
        stop_client.set()
        client.join(10)
        assert squatter.proxy_answered_when_bound is False
        assert squatter.received == []
        assert not any("squatted" in text for text in answers)
        assert server.wait(40) == 0
    finally:
        stop_client.set()
        server.stop()
