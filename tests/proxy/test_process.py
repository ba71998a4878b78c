"""The proxy process's life cycle: preparing .htpasswd, starting, failing clearly, stopping."""
from __future__ import annotations

import os
import re
import signal
import socket
import stat
import ipaddress
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization

from bots_scheduler.proxy import tls
from bots_scheduler.proxy.process import ProxyProcess
from bots_scheduler.errors import UsageError
from tests.proxy.conftest import SECRET, make_settings, users_file
from tests.proxy.tools import (der, https, make_certificate, port_is_free, served_certificate,
                               wait_until)
from tests.support.server import free_port_pair

GENERATED = re.compile(r"user 'administrator' and password '([^']+)'")


def test_without_htpasswd_a_private_file_with_a_random_administrator_password_is_made(
        start_proxy, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    proxy = ProxyProcess(make_settings(free_port_pair()), SECRET)
    message = proxy.prepare()
    password = GENERATED.search(message).group(1)
    assert len(password) >= 20
    path = tmp_path / ".htpasswd"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    running = start_proxy(None)
    assert https("GET", running.url + "/", auth=("administrator", password)).status_code == 200


def test_an_existing_htpasswd_is_reused_and_never_overwritten(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert ProxyProcess(make_settings(free_port_pair()), SECRET).prepare() is not None
    before = (tmp_path / ".htpasswd").read_bytes()
    assert ProxyProcess(make_settings(free_port_pair()), SECRET).prepare() is None
    assert (tmp_path / ".htpasswd").read_bytes() == before


def test_start_up_warns_about_apr1_and_sha1_entries_but_not_bcrypt_ones(tmp_path, caplog):
    users = users_file(tmp_path)          # alice bcrypt, bob apr1, carol SHA1
    with caplog.at_level("WARNING", logger="bots_scheduler.proxy"):
        ProxyProcess(make_settings(free_port_pair(), htpasswd=users), SECRET).prepare()
    weak = [r.getMessage() for r in caplog.records if "fast to crack" in r.getMessage()]
    assert len(weak) == 2
    assert any("'bob'" in line for line in weak) and any("'carol'" in line for line in weak)
    assert not any("'alice'" in line for line in weak)
    assert all("bots-scheduler passwd" in line for line in weak)


def test_a_taken_port_is_reported_in_one_line(tmp_path):
    port = free_port_pair()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", port))
        taken.listen()
        proxy = ProxyProcess(make_settings(port, htpasswd=users_file(tmp_path)), SECRET)
        with pytest.raises(UsageError, match=f"^port {port} is already in use$"):
            proxy.start()
    assert not proxy.is_alive()


@pytest.mark.integration      # starts a process
def test_a_proxy_without_the_shared_secret_refuses_to_start(tmp_path):
    proxy = ProxyProcess(make_settings(free_port_pair(), htpasswd=users_file(tmp_path)), "")
    with pytest.raises(RuntimeError, match="BOTS_SCHEDULER_PROXY_SECRET is not set"):
        proxy.start()
    assert not proxy.is_alive()


def test_stop_frees_the_port_and_may_be_called_twice(start_proxy, tmp_path):
    running = start_proxy(users_file(tmp_path))
    assert running.proxy.is_alive()
    running.proxy.stop()
    running.proxy.stop()
    assert not running.proxy.is_alive()
    assert port_is_free(running.port)


def test_the_given_certificate_is_the_one_served(start_proxy, tmp_path):
    pem, _, cert = make_certificate(tmp_path)
    running = start_proxy(users_file(tmp_path), certificate=pem)
    expected = der(cert)
    assert served_certificate(running.port) == expected


def test_without_certificate_our_own_self_signed_server_certificate_is_served(start_proxy,
                                                                              tmp_path):
    users = users_file(tmp_path)
    running = start_proxy(users)
    own = tmp_path / ".proxy-certificate.pem"
    assert stat.S_IMODE(own.stat().st_mode) == 0o600
    served = x509.load_der_x509_certificate(served_certificate(running.port))
    assert served.public_bytes(serialization.Encoding.PEM) in own.read_bytes()
    assert served.issuer == served.subject                      # self-signed: no CA anywhere
    assert served.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is False
    names = served.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert {"localhost", socket.gethostname()} <= set(names.get_values_for_type(x509.DNSName))
    assert ipaddress.ip_address("127.0.0.1") in names.get_values_for_type(x509.IPAddress)
    fingerprint = served.fingerprint(hashes.SHA256()).hex(":").upper()
    assert tls.fingerprint(own) == fingerprint
    # the next start serves the same certificate (users may have pinned it)
    running.proxy.stop()
    again = start_proxy(users)
    assert x509.load_der_x509_certificate(served_certificate(again.port)) == served
    # mitmproxy's own CA lives only in a private folder of this start, removed at stop
    confdir = Path(again.proxy._confdir)
    assert stat.S_IMODE(confdir.stat().st_mode) == 0o700
    again.proxy.stop()
    assert not confdir.exists()


LAUNCHER = """
import sys, time
from tests.proxy.conftest import make_settings
from bots_scheduler.proxy import tls
from bots_scheduler.proxy.process import ProxyProcess
from pathlib import Path
proxy = ProxyProcess(make_settings(int(sys.argv[1]), htpasswd=Path(sys.argv[2])), "s")
proxy.start()
print(proxy._process.pid, flush=True)
time.sleep(600)
"""


@pytest.mark.integration      # starts a process
def test_the_proxy_exits_when_its_launcher_is_killed(tmp_path):
    port = free_port_pair()
    launcher = subprocess.Popen([sys.executable, "-c", LAUNCHER, str(port),
                                 str(users_file(tmp_path))],
                                stdout=subprocess.PIPE, text=True, cwd=os.getcwd())
    try:
        proxy_pid = int(launcher.stdout.readline())
        launcher.send_signal(signal.SIGKILL)
        launcher.wait(10)
        assert wait_until(lambda: not os.path.exists(f"/proc/{proxy_pid}")
                          or _is_zombie(proxy_pid), timeout=15)
        assert wait_until(lambda: port_is_free(port), timeout=15)
    finally:
        if launcher.poll() is None:
            launcher.kill()


def _is_zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().split(") ")[1].startswith("Z")
    except FileNotFoundError:
        return True
